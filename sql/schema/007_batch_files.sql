-- A batch of small dumps is one per-sample file: live_files lists a file once per dump
-- whose rows it holds (rows: that dump's rows in it), so its key is (path, dump_path).
CREATE TABLE live_files_by_dump (
    path VARCHAR NOT NULL,
    snapshot_date DATE NOT NULL,
    model VARCHAR NOT NULL,
    dump_path VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    run_id VARCHAR NOT NULL,
    loss_fingerprint VARCHAR,
    PRIMARY KEY (path, dump_path)
);
INSERT INTO live_files_by_dump
SELECT path, snapshot_date, model, dump_path, rows, run_id, loss_fingerprint FROM live_files;
DROP TABLE live_files;
ALTER TABLE live_files_by_dump RENAME TO live_files;

-- The old table took its comments with it: they are set again, for the new key.
COMMENT ON TABLE live_files IS 'The committed per-sample Parquet files, once per dump whose rows each holds (a batch of small dumps shares one file): the losses view reads exactly these files.';
COMMENT ON COLUMN live_files.path IS 'Path relative to the warehouse.';
COMMENT ON COLUMN live_files.snapshot_date IS 'The night of its rows.';
COMMENT ON COLUMN live_files.model IS 'The model of its rows.';
COMMENT ON COLUMN live_files.dump_path IS 'A dump whose rows it holds.';
COMMENT ON COLUMN live_files.rows IS 'Rows of that dump in the file.';
COMMENT ON COLUMN live_files.run_id IS 'The run that committed it.';
COMMENT ON COLUMN live_files.loss_fingerprint IS 'Fingerprint of the loss settings it was computed with.';

-- The per-sample files as the `losses` view reads them; a batch file's lossgram_dump
-- column (the dump of each row, for the pipeline) is left out.
CREATE OR REPLACE MACRO losses_parquet(files) AS TABLE
SELECT COLUMNS(lambda c: c != 'lossgram_dump')
FROM read_parquet(files, hive_partitioning = false, union_by_name = true);
