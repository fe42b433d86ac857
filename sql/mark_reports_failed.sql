-- A run whose data landed but whose pages could not be written is partial (a failed
-- run stays failed), and says why. Binds: $run_id, $error
UPDATE job_runs SET
    status = CASE WHEN status = 'succeeded' THEN 'partial' ELSE status END,
    reports_error = $error
WHERE run_id = $run_id
