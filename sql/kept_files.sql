-- Every data file the catalog still references: the live ones, the nights' histogram
-- files and those retired too recently to delete. Binds: none
SELECT path FROM live_files
UNION ALL SELECT path FROM histogram_files
UNION ALL SELECT path FROM retired_files
