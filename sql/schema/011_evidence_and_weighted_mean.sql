-- Evidence states: a gap over the threshold whose interval reaches 0 is possible_overfit,
-- not good_fit; and the gap in error rate beside the gap in nats, with the share of
-- losses at the clip cap, for verdicts whose nats hang on eps.
ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS error_gap DOUBLE;
ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS clipped_share DOUBLE;
COMMENT ON COLUMN verdicts.verdict IS 'overfit, possible_overfit (gap / H over the threshold, its interval reaching 0), underfit, good_fit or insufficient_data.';
COMMENT ON COLUMN verdicts.error_gap IS 'Held-out error rate minus the reference''s (1 - accuracy; NULL without class-index labels).';
COMMENT ON COLUMN verdicts.clipped_share IS 'The larger share of the two splits'' losses at the clip cap -ln(eps); from 5% the reason says the gap in nats depends on eps.';
-- The mean a training script's loss shows: PyTorch's reduction='mean' divides the sum of
-- w_y * ce by the sum of w_y (mean_ce divides by n; both agree without class weights).
ALTER TABLE summaries ADD COLUMN IF NOT EXISTS weighted_mean_ce DOUBLE;
COMMENT ON COLUMN summaries.weighted_mean_ce IS 'PyTorch''s reduction=''mean'' with class weights: sum(w_y * ce) / sum(w_y) (a row without a class index counts 1); equals mean_ce without class weights.';
-- Files written before class_weight have no such column: the losses view reads it as NULL
-- there (a one-column, no-row relation joined by name after the files' own columns).
CREATE OR REPLACE MACRO losses_parquet(files) AS TABLE
SELECT COLUMNS(lambda c: c != 'lossgram_dump')
FROM read_parquet(files, hive_partitioning = false, union_by_name = true)
UNION ALL BY NAME
SELECT CAST(NULL AS DOUBLE) AS class_weight WHERE false;
