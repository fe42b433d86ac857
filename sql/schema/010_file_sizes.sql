-- The size of each per-sample file when it was committed: a run checks the committed
-- files against it and names one that changed since (rewritten or cut), with the rerun
-- that rebuilds its night.
CREATE TABLE IF NOT EXISTS file_sizes (
    path VARCHAR PRIMARY KEY,
    size BIGINT NOT NULL
);
COMMENT ON TABLE file_sizes IS 'The size in bytes of each per-sample file when committed (a run names a committed file whose size changed since).';
COMMENT ON COLUMN file_sizes.path IS 'Path relative to the warehouse (as in live_files).';
COMMENT ON COLUMN file_sizes.size IS 'Its size in bytes when committed.';
