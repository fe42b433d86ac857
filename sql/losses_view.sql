-- The `losses` view over the warehouse's per-sample Parquet (the macro losses_parquet).
-- Literal: :losses_glob (an absolute path; DDL takes no parameters, so
-- pipeline.queries.ddl quotes it in). Binds: none
CREATE OR REPLACE VIEW losses AS SELECT * FROM losses_parquet(:losses_glob)
