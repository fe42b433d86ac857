-- Store summaries another engine computed (Spark), from the registered frame
-- `computed_summaries` (the summaries columns). Binds: none
INSERT INTO summaries BY NAME SELECT * FROM computed_summaries
