-- The committed data files a reader may open: the per-sample files and the nights'
-- histogram files (relative to the warehouse). Binds: none
SELECT DISTINCT path FROM live_files
UNION ALL
SELECT path FROM histogram_files
