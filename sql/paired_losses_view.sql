-- The samples two (night, model) entries share (same held-out split and sample_id), each
-- at its judged epoch, as a temporary view for the comparison's paired queries: loss_a /
-- loss_b, their predictions (by class name where the dumps declared them: the view
-- named_losses), and difference = loss_b - loss_a (positive: B is worse). A and B may be
-- one model on two nights. Literal: {{date_a}}, {{model_a}}, {{date_b}}, {{model_b}},
-- {{split}} (DDL takes no parameters, so pipeline.warehouse.queries.ddl quotes them in).
-- Binds: none
CREATE OR REPLACE TEMP VIEW paired_losses AS
WITH at_judged AS (
    SELECT l.snapshot_date, l.model, l.sample_id, l.label, l.ce, l.confidence,
        coalesce(l.label_name, CAST(l.label AS VARCHAR)) AS label_name,
        coalesce(l.pred_name, CAST(l.pred AS VARCHAR)) AS pred
    FROM named_losses AS l
    JOIN judged_epochs AS j
        ON j.snapshot_date = l.snapshot_date AND j.model = l.model
        AND l.epoch IS NOT DISTINCT FROM j.epoch
    WHERE l.split = {{split}}
      AND ((l.snapshot_date = CAST({{date_a}} AS DATE) AND l.model = {{model_a}})
        OR (l.snapshot_date = CAST({{date_b}} AS DATE) AND l.model = {{model_b}}))
)
SELECT
    a.sample_id,
    a.label,
    a.label_name,
    a.ce AS loss_a,
    b.ce AS loss_b,
    a.pred AS pred_a,
    b.pred AS pred_b,
    a.confidence AS confidence_a,
    b.confidence AS confidence_b,
    b.ce - a.ce AS difference
FROM at_judged AS a
JOIN at_judged AS b ON a.sample_id = b.sample_id
WHERE a.snapshot_date = CAST({{date_a}} AS DATE) AND a.model = {{model_a}}
  AND b.snapshot_date = CAST({{date_b}} AS DATE) AND b.model = {{model_b}}
