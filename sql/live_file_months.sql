-- The months (YYYY_MM, as the stored months' views are named: losses_of_YYYY_MM) that
-- hold committed per-sample files. Binds: none
SELECT DISTINCT strftime(snapshot_date, '%Y_%m') AS month FROM live_files ORDER BY month
