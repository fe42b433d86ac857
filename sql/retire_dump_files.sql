-- Retire the live files of the dumps a run ingested again (a changed dump replaces its
-- own rows), from the registered frame `replaced_dumps` (path, snapshot_date). A batch
-- file goes whole: the run carried its other dumps' rows into a file of its own.
-- Binds: $run_id
INSERT INTO retired_files
SELECT DISTINCT path, now(), $run_id FROM live_files
WHERE (dump_path, snapshot_date) IN (SELECT (path, snapshot_date) FROM replaced_dumps)
  AND path NOT IN (SELECT path FROM retired_files)
