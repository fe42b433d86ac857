-- The schema signature of each file just placed, from the registered frame `placed_files`
-- (a batch file is listed once per dump: its signature once). Binds: none
INSERT OR REPLACE INTO file_columns
SELECT DISTINCT path, column_set FROM placed_files WHERE column_set IS NOT NULL
