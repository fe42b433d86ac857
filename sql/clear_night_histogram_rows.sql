-- A night moved out to its file leaves histogram_rows. Binds: $snapshot_date
DELETE FROM histogram_rows WHERE snapshot_date = $snapshot_date
