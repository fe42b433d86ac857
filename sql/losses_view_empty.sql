-- The `losses` view of a warehouse with no Parquet yet: the columns of `loss_columns`
-- (made from the per-sample schema by create_loss_columns.sql), no rows. Binds: none
CREATE OR REPLACE VIEW losses AS SELECT * FROM loss_columns
