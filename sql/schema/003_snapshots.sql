-- Atomic snapshots and lineage. The catalog decides what is visible: `live_files` is the
-- committed set of per-sample Parquet files (paths relative to the warehouse), written
-- in the same transaction as the ledger and the aggregates; files a later commit
-- replaced wait in `retired_files` until no reader can still need them. Every run keeps
-- the settings that shape numbers; each night and aggregate row names the run that
-- made it.
CREATE TABLE IF NOT EXISTS live_files (
    path VARCHAR PRIMARY KEY,        -- relative to the warehouse folder
    snapshot_date DATE NOT NULL,
    model VARCHAR NOT NULL,
    dump_path VARCHAR NOT NULL,      -- the dump whose rows it holds
    rows BIGINT NOT NULL,
    run_id VARCHAR NOT NULL,
    loss_fingerprint VARCHAR         -- the loss settings it was computed with (NULL: unknown)
);

CREATE TABLE IF NOT EXISTS retired_files (
    path VARCHAR PRIMARY KEY,
    retired_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR NOT NULL          -- the run whose commit replaced it
);

-- One row per night: the run that last committed it and the loss settings its losses
-- were computed with (a later run with other settings names the night stale).
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_date DATE PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    committed_at TIMESTAMPTZ NOT NULL,
    loss_settings JSON NOT NULL,
    loss_fingerprint VARCHAR NOT NULL
);

ALTER TABLE job_runs ADD COLUMN IF NOT EXISTS lossgram_version VARCHAR;
ALTER TABLE job_runs ADD COLUMN IF NOT EXISTS settings JSON;
ALTER TABLE job_runs ADD COLUMN IF NOT EXISTS settings_fingerprint VARCHAR;
ALTER TABLE job_runs ADD COLUMN IF NOT EXISTS reports_error VARCHAR;
ALTER TABLE histograms ADD COLUMN IF NOT EXISTS run_id VARCHAR;
ALTER TABLE summaries ADD COLUMN IF NOT EXISTS run_id VARCHAR;
ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS run_id VARCHAR;

-- The per-sample files are read as listed, not by folder names: the files carry
-- snapshot_date and model themselves (a long model name has a hashed folder).
CREATE OR REPLACE MACRO losses_parquet(files) AS TABLE
SELECT * FROM read_parquet(files, hive_partitioning = false, union_by_name = true);

-- The type of every slice column, as first landed: a dump whose column of the same name
-- has a type DuckDB cannot unify with it (a struct here, a number there) is rejected,
-- so `select * from losses` keeps working.
CREATE TABLE IF NOT EXISTS slice_columns (
    name VARCHAR PRIMARY KEY,
    arrow_type VARCHAR NOT NULL,
    first_dump VARCHAR NOT NULL
);

-- The inbox a dump was read from: its key=value folders count below it, on a rerun too.
ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS inbox VARCHAR;

-- Where the catalog was when its stored `losses` view was last made (absolute paths):
-- a run in a copied or moved warehouse makes the view again.
CREATE TABLE IF NOT EXISTS catalog_location (path VARCHAR NOT NULL);

-- Nights whose pages a run could not write (the data landed): the next run renders them.
CREATE TABLE IF NOT EXISTS pending_reports (snapshot_date DATE PRIMARY KEY);
