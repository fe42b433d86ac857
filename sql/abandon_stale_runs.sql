-- Runs still marked running when a new run holds the lock died mid-way. Binds: none
UPDATE job_runs SET status = 'failed', error = coalesce(error, 'interrupted: the process ended mid-run')
WHERE status = 'running'
