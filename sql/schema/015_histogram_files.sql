-- A night's histograms move out of the catalog into one Parquet file per night
-- (histograms/snapshot_date=D/<run>.parquet), so the catalog, which every commit copies,
-- stays small however many nights it holds: the per-class histograms of every epoch were
-- ~1 MiB a night (bench/README.md, A year of nights). `histogram_rows` holds the rows a
-- commit is computing (a night is moved out before the commit ends; a warehouse of an
-- older lossgram keeps its rows here until its next commit moves them out); the
-- `histograms` view reads the rows and the committed files as one table.
ALTER TABLE histograms RENAME TO histogram_rows;
CREATE TABLE IF NOT EXISTS histogram_files (
    snapshot_date DATE PRIMARY KEY,
    path VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    run_id VARCHAR NOT NULL
);
COMMENT ON TABLE histogram_rows IS 'Histogram rows not yet moved out to their night''s Parquet file (read them through the histograms view).';
COMMENT ON TABLE histogram_files IS 'The committed Parquet file of each night''s histograms (the histograms view reads them).';
COMMENT ON COLUMN histogram_files.snapshot_date IS 'The night.';
COMMENT ON COLUMN histogram_files.path IS 'Path relative to the warehouse.';
COMMENT ON COLUMN histogram_files.rows IS 'Histogram rows in the file.';
COMMENT ON COLUMN histogram_files.run_id IS 'The run that wrote it.';
-- The committed files' rows, until the code binds this view over them (by absolute path,
-- at every commit: sql/histogram_file_rows_view.sql).
CREATE OR REPLACE VIEW histogram_file_rows AS SELECT * FROM histogram_rows WHERE false;
-- A night's rows come from histogram_rows while a commit recomputes it, else from its
-- file; a night whose file was retired has no rows until its new file is listed.
CREATE OR REPLACE VIEW histograms AS
SELECT * FROM histogram_rows
UNION ALL
SELECT * FROM histogram_file_rows
WHERE snapshot_date IN (SELECT snapshot_date FROM histogram_files)
    AND snapshot_date NOT IN (SELECT DISTINCT snapshot_date FROM histogram_rows);
COMMENT ON VIEW histograms IS 'Loss histograms per night, model, split and epoch, on a fixed bin scheme; rows with label NULL count all classes, the others one class each (use the views loss_histograms and class_loss_histograms to get one kind). Read from each night''s Parquet file (histogram_files).';
COMMENT ON VIEW histogram_file_rows IS 'The rows of the committed histogram files (histogram_files), by absolute path; read histograms instead.';
