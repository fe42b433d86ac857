-- Training dynamics per sample (Dataset Cartography, Swayamdipta et al. 2020): for each
-- night, model and split dumped at 3 or more epochs, over those epochs: confidence =
-- mean p_true, variability = its population standard deviation, correctness = share of
-- epochs predicted right, forgetting_events = epochs where it turned from right to wrong
-- (NULL when never_learnt: never predicted right, the authors' "never learnt"), and the
-- region chosen by rank as the authors' selection code does (the top 33%, i.e.
-- floor(0.33 n) + 1 samples, as their head(n + 1) takes): ambiguous = highest
-- variability; of the rest, easy-to-learn = highest confidence, then hard-to-learn =
-- lowest confidence; NULL for the samples in none. Ties go by sample_id. Made again with
-- the losses view at every commit. Binds: none
CREATE OR REPLACE VIEW training_dynamics AS
WITH per_epoch AS (
    SELECT snapshot_date, model, split, sample_id, label, epoch, p_true, correct,
        lag(correct) OVER (
            PARTITION BY snapshot_date, model, split, sample_id ORDER BY epoch
        ) AS correct_before
    FROM losses
    WHERE epoch IS NOT NULL
),
dynamics AS (
    SELECT
        snapshot_date, model, split, sample_id,
        any_value(label) AS label,
        count(*) AS epochs,
        avg(p_true) AS confidence,
        stddev_pop(p_true) AS variability,
        avg(correct::INTEGER) AS correctness,
        count(*) FILTER (WHERE correct_before AND NOT correct) AS forgetting_events,
        NOT bool_or(coalesce(correct, false)) AS never_learnt
    FROM per_epoch
    GROUP BY ALL
    HAVING count(*) >= 3
),
by_variability AS (
    SELECT *,
        row_number() OVER (
            PARTITION BY snapshot_date, model, split ORDER BY variability DESC, sample_id
        ) <= floor(0.33 * count(*) OVER (PARTITION BY snapshot_date, model, split)) + 1
            AS ambiguous,
        floor(0.33 * count(*) OVER (PARTITION BY snapshot_date, model, split)) + 1 AS taken
    FROM dynamics
),
by_confidence AS (
    SELECT *,
        row_number() OVER (
            PARTITION BY snapshot_date, model, split, ambiguous
            ORDER BY confidence DESC, sample_id
        ) AS high_rank,
        row_number() OVER (
            PARTITION BY snapshot_date, model, split, ambiguous ORDER BY confidence, sample_id
        ) AS low_rank
    FROM by_variability
)
SELECT
    snapshot_date, model, split, sample_id, label, epochs, confidence, variability,
    correctness,
    CASE WHEN never_learnt THEN NULL ELSE forgetting_events END AS forgetting_events,
    never_learnt,
    CASE
        WHEN ambiguous THEN 'ambiguous'
        WHEN high_rank <= taken THEN 'easy-to-learn'
        WHEN low_rank <= taken THEN 'hard-to-learn'
    END AS region
FROM by_confidence
