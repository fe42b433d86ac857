-- The `losses` view of a warehouse that has no Parquet yet: same columns, no rows.
CREATE OR REPLACE VIEW losses AS
SELECT
    NULL::VARCHAR AS sample_id, NULL::VARCHAR AS split, NULL::BIGINT AS epoch,
    NULL::BIGINT AS label, NULL::DOUBLE AS weight, NULL::INTEGER AS n_classes,
    NULL::DOUBLE AS ce, NULL::DOUBLE AS p_true, NULL::BIGINT AS pred, NULL::BOOLEAN AS correct,
    NULL::DOUBLE AS confidence, NULL::BOOLEAN AS clipped, NULL::DOUBLE AS brier,
    NULL::VARCHAR AS model, NULL::DATE AS snapshot_date
WHERE false
