-- The columns of each per-sample file (a signature of its Arrow schema), so the `losses`
-- view reads files of one schema together without opening every file's footer to unify
-- them: binding the view reads one footer per schema, not one per file (a year of nights
-- is ~15,000 files; union_by_name read each footer at every commit and query).
CREATE TABLE IF NOT EXISTS file_columns (
    path VARCHAR PRIMARY KEY,
    column_set VARCHAR NOT NULL
);
COMMENT ON TABLE file_columns IS 'The schema of each per-sample file (a signature): files of one schema are read together by the losses view.';
COMMENT ON COLUMN file_columns.path IS 'Path relative to the warehouse (as in live_files).';
COMMENT ON COLUMN file_columns.column_set IS 'A signature of the file''s column names and types.';
-- Per-sample files of one schema (one column_set), read without unifying them by name.
CREATE OR REPLACE MACRO losses_parquet_alike(files) AS TABLE
SELECT * FROM read_parquet(files, hive_partitioning = false);
