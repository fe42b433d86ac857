-- The committed per-sample files of some (night, model) entries with their night and
-- schema signature (NULL: not recorded yet); a report page reads only these.
-- Binds: $dates, $models (lists of one length: entry i is dates[i], models[i])
SELECT DISTINCT f.path, f.snapshot_date, columns.column_set
FROM live_files AS f
JOIN (
    SELECT unnest($dates::DATE[]) AS snapshot_date, unnest($models::VARCHAR[]) AS model
) AS entries USING (snapshot_date, model)
LEFT JOIN file_columns AS columns USING (path)
ORDER BY f.path
