-- The committed per-sample files of some months (YYYY_MM), as live_file_groups: a
-- night's commit makes again its own month's view alone. Binds: $months
SELECT files.path, files.snapshot_date, columns.column_set
FROM (
    SELECT DISTINCT snapshot_date, model, path FROM live_files
    WHERE strftime(snapshot_date, '%Y_%m') IN (SELECT unnest($months::VARCHAR[]))
) AS files
LEFT JOIN file_columns AS columns USING (path)
ORDER BY files.snapshot_date, files.model, files.path
