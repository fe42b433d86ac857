-- How many runs are still marked running: runs that died (an older lossgram's too,
-- which kept no note of the folders it wrote into). Binds: none
SELECT count(*) FROM job_runs WHERE status = 'running'
