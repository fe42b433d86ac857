-- A session's own `histograms` view over its own histogram_file_rows (as the stored one,
-- sql/schema/015_histogram_files.sql). Binds: none
CREATE OR REPLACE TEMP VIEW histograms AS
SELECT * FROM histogram_rows
UNION ALL
SELECT * FROM temp.main.histogram_file_rows
WHERE snapshot_date IN (SELECT snapshot_date FROM histogram_files)
    AND snapshot_date NOT IN (SELECT DISTINCT snapshot_date FROM histogram_rows)
