-- A run that died before any commit recorded it, from the note it left
-- (pipeline/warehouse/journal.py): recorded as running, which abandon_stale_runs then
-- marks failed; a run a commit of its own recorded is left as it is. Binds: $run_id,
-- $command, $started_at, $lossgram_version, $settings, $settings_fingerprint
INSERT INTO job_runs (run_id, command, started_at, status, lossgram_version, settings,
                      settings_fingerprint)
SELECT $run_id, $command, $started_at, 'running', $lossgram_version, $settings,
       $settings_fingerprint
WHERE NOT EXISTS (SELECT 1 FROM job_runs WHERE run_id = $run_id)
