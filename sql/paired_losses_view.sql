-- The samples two models share on one night (same held-out split and sample_id), each
-- model at its judged epoch, as a temporary view for the comparison's paired queries:
-- loss_a / loss_b, their predictions, and difference = loss_b - loss_a (positive: B is
-- worse). Literal: {{snapshot_date}}, {{model_a}}, {{model_b}}, {{split}} (DDL takes no parameters,
-- so pipeline.warehouse.queries.ddl quotes them in). Binds: none
CREATE OR REPLACE TEMP VIEW paired_losses AS
WITH at_judged AS (
    SELECT l.model, l.sample_id, l.label, l.ce, l.pred, l.confidence
    FROM losses AS l
    JOIN judged_epochs AS j
        ON j.snapshot_date = l.snapshot_date AND j.model = l.model
        AND l.epoch IS NOT DISTINCT FROM j.epoch
    WHERE l.snapshot_date = CAST({{snapshot_date}} AS DATE) AND l.split = {{split}}
      AND l.model IN ({{model_a}}, {{model_b}})
)
SELECT
    a.sample_id,
    a.label,
    a.ce AS loss_a,
    b.ce AS loss_b,
    a.pred AS pred_a,
    b.pred AS pred_b,
    a.confidence AS confidence_a,
    b.confidence AS confidence_b,
    b.ce - a.ce AS difference
FROM at_judged AS a
JOIN at_judged AS b ON a.sample_id = b.sample_id
WHERE a.model = {{model_a}} AND b.model = {{model_b}}
