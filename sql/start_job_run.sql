-- Record a run as started, with the lossgram version and the settings that shape its
-- numbers (JSON, and their fingerprint), in its first commit; started_at is when it
-- started, before that commit. Binds: $run_id, $command, $started_at, $lossgram_version,
-- $settings, $settings_fingerprint
INSERT INTO job_runs (run_id, command, started_at, status, lossgram_version, settings,
                      settings_fingerprint)
VALUES ($run_id, $command, $started_at, 'running', $lossgram_version, $settings,
        $settings_fingerprint)
