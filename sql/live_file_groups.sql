-- The committed per-sample files with their night and schema signature (NULL: not
-- recorded yet), relative to the warehouse folder, in a stable order (a batch file is
-- listed once per dump in live_files, once here). Binds: none
SELECT files.path, files.snapshot_date, columns.column_set
FROM (SELECT DISTINCT snapshot_date, model, path FROM live_files) AS files
LEFT JOIN file_columns AS columns USING (path)
ORDER BY files.snapshot_date, files.model, files.path
