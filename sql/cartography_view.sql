-- Training dynamics per sample (Dataset Cartography, Swayamdipta et al. 2020) of one
-- model's split on one night, over the epochs it was dumped at: confidence = mean
-- p_true, variability = population standard deviation of p_true, correctness = share
-- of epochs predicted right, forgetting events = epochs where it turned from right to
-- wrong since the epoch before. A temporary view for the cartography queries.
-- Literal: {{snapshot_date}}, {{model}}, {{split}} (DDL takes no parameters, so
-- pipeline.warehouse.queries.ddl quotes them in). Binds: none
CREATE OR REPLACE TEMP VIEW sample_dynamics AS
WITH per_epoch AS (
    SELECT sample_id, label, epoch, p_true, correct,
        lag(correct) OVER (PARTITION BY sample_id ORDER BY epoch) AS correct_before
    FROM losses
    WHERE snapshot_date = CAST({{snapshot_date}} AS DATE) AND model = {{model}} AND split = {{split}}
      AND epoch IS NOT NULL
)
SELECT
    sample_id,
    any_value(label) AS label,
    count(*) AS epochs,
    avg(p_true) AS confidence,
    stddev_pop(p_true) AS variability,
    avg(correct::INTEGER) AS correctness,
    count(*) FILTER (WHERE correct_before AND NOT correct) AS forgetting_events
FROM per_epoch
GROUP BY sample_id
