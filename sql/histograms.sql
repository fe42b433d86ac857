-- Loss histogram per (snapshot, model, split, epoch), for all classes (label NULL) and per
-- class, on a fixed bin scheme (ASOF join: bin = last edge <= ce, so [lower, upper)).
-- Binds: $snapshot_date, $scheme_id, $models (list; empty = every model)
WITH bins AS (
    SELECT bin, lower, upper FROM bin_schemes WHERE scheme_id = $scheme_id
),
samples AS (
    SELECT model, split, epoch, label, ce, weight
    FROM losses
    WHERE snapshot_date = $snapshot_date
      AND (len($models) = 0 OR list_contains($models, model))
),
binned AS (
    SELECT samples.*, bins.bin
    FROM samples ASOF JOIN bins ON samples.ce >= bins.lower
),
counted AS (
    SELECT
        model, split, epoch, label, bin,
        grouping(label) = 1 AS all_classes,
        count(*) AS count,
        sum(weight) AS weight_sum
    FROM binned
    GROUP BY GROUPING SETS ((model, split, epoch, bin), (model, split, epoch, label, bin))
)
SELECT
    $snapshot_date::DATE AS snapshot_date,
    counted.model,
    counted.split,
    counted.epoch,
    CASE WHEN all_classes THEN NULL ELSE counted.label END AS label,
    $scheme_id AS scheme_id,
    counted.bin,
    bins.lower,
    bins.upper,
    counted.count,
    counted.weight_sum,
    counted.count / sum(counted.count) OVER (
        PARTITION BY counted.model, counted.split, counted.epoch, counted.label, all_classes
    ) AS fraction
FROM counted JOIN bins USING (bin)
WHERE all_classes OR counted.label IS NOT NULL
ORDER BY ALL
