-- How many files the catalog lists as live. Binds: none
SELECT count(DISTINCT path) FROM live_files
