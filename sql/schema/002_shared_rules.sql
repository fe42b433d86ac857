-- Rules several statements and the report pages share, defined once in the catalog.
-- in_models: a statement's model filter; an empty list means every model.
CREATE OR REPLACE MACRO in_models(models, model) AS len(models) = 0 OR list_contains(models, model);

-- judged_epochs: the epoch shown for a model on a night. The verdicts decide it (the
-- latest epoch both splits have; with several held-out splits, the first by name);
-- a model with no verdict shows its latest epoch.
CREATE OR REPLACE VIEW judged_epochs AS
WITH judged AS (
    SELECT snapshot_date, model, epoch,
           row_number() OVER (PARTITION BY snapshot_date, model ORDER BY heldout_split) AS rank
    FROM verdicts
),
latest AS (
    SELECT snapshot_date, model, max(epoch) AS epoch FROM summaries GROUP BY ALL
)
SELECT latest.snapshot_date, latest.model,
       CASE WHEN judged.model IS NULL THEN latest.epoch ELSE judged.epoch END AS epoch
FROM latest
LEFT JOIN judged
    ON judged.snapshot_date = latest.snapshot_date AND judged.model = latest.model
    AND judged.rank = 1;

-- losses_parquet: the per-sample Parquet under a glob, read as the `losses` view reads it
-- (hive folders give snapshot_date and model; files may add slice columns).
CREATE OR REPLACE MACRO losses_parquet(files) AS TABLE
SELECT * FROM read_parquet(
    files,
    hive_partitioning = true,
    hive_types = {'snapshot_date': DATE, 'model': VARCHAR},
    union_by_name = true
);
