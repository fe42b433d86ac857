-- The committed size of each file just placed, from the registered frame `placed_files`
-- (a batch file is listed once per dump: its size once). Binds: none
INSERT OR REPLACE INTO file_sizes
SELECT DISTINCT path, size FROM placed_files WHERE size IS NOT NULL
