-- How many files the catalog lists as live. Binds: none
SELECT count(*) FROM live_files
