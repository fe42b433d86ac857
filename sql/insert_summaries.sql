-- Store the summaries either engine computed (sql/summaries.sql, with the quantiles set),
-- from the registered frame `computed_summaries` (the summaries columns). Binds: none
INSERT INTO summaries BY NAME SELECT * FROM computed_summaries
