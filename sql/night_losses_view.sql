-- One night's rows of the `losses` view (of some models) as the temp view night_losses,
-- which the engine-neutral histograms.sql and summaries.sql read (Spark makes its own
-- from the night's files). A view takes no parameters, so pipeline.warehouse.queries.ddl
-- quotes them in. Literal: {{snapshot_date}}, {{models}} (a list; empty = every model).
-- Binds: none
CREATE OR REPLACE TEMP VIEW night_losses AS
SELECT * FROM losses
WHERE snapshot_date = CAST({{snapshot_date}} AS DATE)
  AND in_models(CAST({{models}} AS VARCHAR[]), model)
