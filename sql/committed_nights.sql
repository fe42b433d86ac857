-- The nights and the run that last committed each (what tables/ must mirror).
-- Binds: none
SELECT snapshot_date, run_id FROM snapshots ORDER BY snapshot_date
