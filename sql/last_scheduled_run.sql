-- When the nightly job last started (scheduled or by hand), for catching up a missed night.
-- Binds: none
SELECT max(started_at) FROM job_runs WHERE command IN ('run', 'schedule')
