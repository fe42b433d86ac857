-- The committed histogram files, relative to the warehouse, by night. Binds: none
SELECT path FROM histogram_files ORDER BY snapshot_date
