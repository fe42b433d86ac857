-- Start recomputing one night's histograms (of some models): its committed file's rows
-- come back into histogram_rows (unless there already), so the rows of the other models
-- stay when the night is moved out again. Binds: $snapshot_date
INSERT INTO histogram_rows
SELECT * FROM histogram_file_rows
WHERE snapshot_date = $snapshot_date
    AND snapshot_date IN (SELECT snapshot_date FROM histogram_files)
    AND NOT EXISTS (SELECT 1 FROM histogram_rows WHERE snapshot_date = $snapshot_date)
