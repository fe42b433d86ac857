-- Each verdict of a night beside the same model's and held-out split's verdict on its
-- previous night with one (for pipeline/analysis/changes.py to classify), plus the (model,
-- held-out split) verdicts the night before (in the warehouse) had and this night
-- lacks, with verdict NULL;
-- night_before is NULL on the warehouse's first night (nothing to compare with).
-- Binds: $snapshot_date
WITH tonight AS (
    SELECT * FROM verdicts WHERE snapshot_date = $snapshot_date
),
earlier AS (
    SELECT * FROM verdicts
    WHERE snapshot_date < $snapshot_date
    QUALIFY snapshot_date = max(snapshot_date) OVER (PARTITION BY model, heldout_split)
),
night_before AS (
    SELECT max(snapshot_date) AS snapshot_date FROM verdicts WHERE snapshot_date < $snapshot_date
)
SELECT
    tonight.model,
    tonight.heldout_split,
    tonight.verdict,
    tonight.normalised_gap,
    tonight.gap_ci_low / nullif(tonight.label_entropy, 0) AS normalised_ci_low,
    tonight.gap_ci_high / nullif(tonight.label_entropy, 0) AS normalised_ci_high,
    earlier.snapshot_date AS previous_date,
    earlier.verdict AS previous_verdict,
    earlier.normalised_gap AS previous_normalised_gap,
    earlier.gap_ci_low / nullif(earlier.label_entropy, 0) AS previous_ci_low,
    earlier.gap_ci_high / nullif(earlier.label_entropy, 0) AS previous_ci_high,
    (SELECT snapshot_date FROM night_before) AS night_before
FROM tonight
LEFT JOIN earlier USING (model, heldout_split)
UNION ALL
SELECT
    gone.model, gone.heldout_split, NULL, NULL, NULL, NULL,
    gone.snapshot_date, gone.verdict, gone.normalised_gap, NULL, NULL, gone.snapshot_date
FROM verdicts AS gone
JOIN night_before USING (snapshot_date)
WHERE NOT EXISTS (
    SELECT 1 FROM tonight
    WHERE tonight.model = gone.model AND tonight.heldout_split = gone.heldout_split
)
ORDER BY 1, 2
