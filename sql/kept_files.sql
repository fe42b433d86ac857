-- Every data file the catalog still references: the live ones, the nights' histogram
-- files and the retired ones (the caller leaves out those expired_files deletes).
-- Binds: none
SELECT path FROM live_files
UNION ALL SELECT path FROM histogram_files
UNION ALL SELECT path FROM retired_files
