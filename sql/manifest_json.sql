-- losses/_manifest.json as text: the committed per-sample files (path relative to
-- losses/, night, model, rows of every dump the file holds), made by DuckDB in one
-- statement (a year is ~15,000 files, written twice a run). Binds: $commit
SELECT json_object(
    'version', 1,
    'commit', $commit,
    'files', coalesce(to_json(list(entry ORDER BY snapshot_date, model, path)), '[]'::JSON)
)::VARCHAR
FROM (
    SELECT path, snapshot_date, model, json_object(
        'path', substr(path, length('losses/') + 1),
        'snapshot_date', strftime(snapshot_date, '%Y-%m-%d'),
        'model', model,
        'rows', sum(rows)
    ) AS entry
    FROM live_files
    GROUP BY path, snapshot_date, model
)
