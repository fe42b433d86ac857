-- Record the rows a `bad_rows = skip` run dropped, from a registered frame `dropped`
-- (sample_id, column_name, problem). Binds: $snapshot_date, $path, $run_id
INSERT INTO rejected_rows
SELECT $snapshot_date::DATE, $path, sample_id, column_name, problem, $run_id FROM dropped
