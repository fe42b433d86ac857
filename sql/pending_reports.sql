-- Nights whose pages are still to be written. Binds: none
SELECT snapshot_date FROM pending_reports ORDER BY snapshot_date
