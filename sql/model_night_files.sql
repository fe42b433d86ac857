-- The committed per-sample files of some (night, model) entries (a report reads only
-- these). Binds: $dates, $models (lists of one length: entry i is dates[i], models[i])
SELECT DISTINCT f.path
FROM live_files AS f
JOIN (
    SELECT unnest($dates::DATE[]) AS snapshot_date, unnest($models::VARCHAR[]) AS model
) AS entries USING (snapshot_date, model)
ORDER BY f.path
