-- Record a run as started. Binds: $run_id, $command
INSERT INTO job_runs (run_id, command, started_at, status)
VALUES ($run_id, $command, now(), 'running')
