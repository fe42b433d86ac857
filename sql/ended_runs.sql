-- Which of these runs the catalog records as ended (succeeded, partial or failed): a
-- run's note names the folders it wrote into, which is all the clean-up lists after it.
-- Binds: $run_ids
SELECT run_id FROM job_runs
WHERE run_id IN (SELECT unnest($run_ids::VARCHAR[])) AND status <> 'running'
