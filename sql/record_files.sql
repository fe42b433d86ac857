-- Record the dumps of one snapshot from the registered frame `recorded_files` (the
-- ingested_files columns, snapshot_date as text). Binds: none
INSERT INTO ingested_files BY NAME
SELECT * REPLACE (snapshot_date::DATE AS snapshot_date) FROM recorded_files
