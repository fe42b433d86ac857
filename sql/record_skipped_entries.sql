-- Keep the inbox entries a run did not read, from the registered frame `skipped`
-- (path, reason). Binds: $run_id
INSERT INTO skipped_entries SELECT $run_id, path, reason FROM skipped
