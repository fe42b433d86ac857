-- No histogram file committed yet: the view has the columns and no rows. Binds: none
CREATE OR REPLACE VIEW histogram_file_rows AS SELECT * FROM histogram_rows WHERE false
