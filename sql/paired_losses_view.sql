-- The samples two (night, model) entries share (same held-out split and sample_id), each
-- at its judged epoch, as a temporary view for the comparison's paired queries: loss_a /
-- loss_b, their predictions (with class names where the dumps declared them), and
-- difference = loss_b - loss_a (positive: B is worse). A and B may be one model on two
-- nights. Literal: {{date_a}}, {{model_a}}, {{date_b}}, {{model_b}}, {{split}} (DDL takes
-- no parameters, so pipeline.warehouse.queries.ddl quotes them in). Binds: none
CREATE OR REPLACE TEMP VIEW paired_losses AS
WITH at_judged AS (
    SELECT l.snapshot_date, l.model, l.sample_id, l.label, l.ce, l.pred, l.confidence
    FROM losses AS l
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
    coalesce(label_names.name, CAST(a.label AS VARCHAR)) AS label_name,
    a.ce AS loss_a,
    b.ce AS loss_b,
    coalesce(pred_a_names.name, CAST(a.pred AS VARCHAR)) AS pred_a,
    coalesce(pred_b_names.name, CAST(b.pred AS VARCHAR)) AS pred_b,
    a.confidence AS confidence_a,
    b.confidence AS confidence_b,
    b.ce - a.ce AS difference
FROM at_judged AS a
JOIN at_judged AS b ON a.sample_id = b.sample_id
LEFT JOIN class_names AS label_names
    ON label_names.snapshot_date = a.snapshot_date AND label_names.model = a.model
    AND label_names.label = a.label
LEFT JOIN class_names AS pred_a_names
    ON pred_a_names.snapshot_date = a.snapshot_date AND pred_a_names.model = a.model
    AND pred_a_names.label = a.pred
LEFT JOIN class_names AS pred_b_names
    ON pred_b_names.snapshot_date = b.snapshot_date AND pred_b_names.model = b.model
    AND pred_b_names.label = b.pred
WHERE a.snapshot_date = CAST({{date_a}} AS DATE) AND a.model = {{model_a}}
  AND b.snapshot_date = CAST({{date_b}} AS DATE) AND b.model = {{model_b}}
