-- Record the dumps of one snapshot from the registered frame `recorded_files` (the
-- ingested_files columns). Binds: none
INSERT INTO ingested_files BY NAME SELECT * FROM recorded_files
