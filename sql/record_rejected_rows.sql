-- Record the rows a `bad_rows = skip` run dropped, from the registered frame `dropped_rows`
-- (sample_id, column_name, problem, path, snapshot_date). Binds: $run_id
INSERT INTO rejected_rows
SELECT snapshot_date, path, sample_id, column_name, problem, $run_id FROM dropped_rows
