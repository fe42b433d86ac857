-- Why a run tripped the fail_on gate (exit 3), one reason a line; empty when it did not.
-- The summary, `lossgram history` and job_runs say so, not only the run's stderr.
ALTER TABLE job_runs ADD COLUMN IF NOT EXISTS gate VARCHAR[] DEFAULT [];
COMMENT ON COLUMN job_runs.gate IS 'Why the run tripped the fail_on gate (exit code 3); empty when it did not.';
