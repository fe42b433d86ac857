-- A reader's own empty `losses` view (temporary: the file is open read-only). Binds: none
CREATE OR REPLACE TEMP VIEW losses AS SELECT * FROM loss_columns
