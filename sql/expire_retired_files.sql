-- Forget replaced files retired long enough ago that no reader can still be reading
-- them (their files are deleted once this commit is in place). Binds: $seconds
DELETE FROM retired_files WHERE retired_at < now() - to_seconds($seconds)
