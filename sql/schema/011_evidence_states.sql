-- Evidence states: a gap over the threshold whose interval reaches 0 is possible_overfit,
-- not good_fit; and the gap in error rate beside the gap in nats, with the share of
-- losses at the clip cap, for verdicts whose nats hang on eps.
ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS error_gap DOUBLE;
ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS clipped_share DOUBLE;
COMMENT ON COLUMN verdicts.verdict IS 'overfit, possible_overfit (gap / H over the threshold, its interval reaching 0), underfit, good_fit or insufficient_data.';
COMMENT ON COLUMN verdicts.error_gap IS 'Held-out error rate minus the reference''s (1 - accuracy; NULL without class-index labels).';
COMMENT ON COLUMN verdicts.clipped_share IS 'The larger share of the two splits'' losses at the clip cap -ln(eps); from 5% the reason says the gap in nats depends on eps.';
