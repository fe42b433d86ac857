-- Replaced files retired long enough ago that no reader can still be reading them: the
-- run deletes them, then its first commit forgets them (forget_retired_files). Binds:
-- $seconds
SELECT path FROM retired_files
WHERE retired_at < now() - to_seconds($seconds)
  AND path NOT IN (SELECT path FROM live_files UNION ALL SELECT path FROM histogram_files)
ORDER BY path
