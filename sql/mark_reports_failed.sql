-- A run whose data landed but whose pages could not be written is partial, and says so.
-- Binds: $run_id, $error
UPDATE job_runs SET status = 'partial', reports_error = $error WHERE run_id = $run_id
