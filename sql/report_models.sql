-- The models of one night (those with summaries). Binds: $snapshot_date
SELECT DISTINCT model FROM summaries WHERE snapshot_date = $snapshot_date ORDER BY model
