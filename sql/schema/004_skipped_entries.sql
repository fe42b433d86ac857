-- Inbox entries a run did not read (a CSV, a symlinked folder, a named pipe, a folder it
-- may not list), with the reason: nothing in the inbox vanishes without a word.
CREATE TABLE IF NOT EXISTS skipped_entries (
    run_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
