-- Store the loss histograms per (snapshot, model, split, epoch), for all classes (label
-- NULL) and per class, on a fixed bin scheme: bins are [lower, upper). The bin is guessed
-- from the scheme's formula, then moved by one where float rounding put it across a
-- stored edge: an equi-join, far cheaper than an ASOF join on the edges (bench/README.md).
-- Binds: $snapshot_date, $scheme_id, $models (list; empty = every
-- model), $guess_kind ('log' or 'linear'), $guess_a, $guess_b, $last_bin, $run_id
INSERT INTO histograms
WITH bins AS (
    SELECT bin, lower, upper FROM bin_schemes WHERE scheme_id = $scheme_id
),
samples AS (
    SELECT model, split, epoch, label, ce, weight
    FROM losses
    WHERE snapshot_date = $snapshot_date
      AND in_models($models, model)
),
guessed AS (
    SELECT
        samples.*,
        CAST(least($last_bin, greatest(0, CASE
            -- log: [0, low) is bin 0, then per_decade bins per decade from low ($guess_a)
            WHEN $guess_kind = 'log' THEN
                CASE WHEN ce < $guess_a THEN 0
                     ELSE 1 + floor($guess_b * log10(ce / $guess_a)) END
            -- linear: bins of width $guess_a from 0
            ELSE floor(ce / $guess_a)
        END)) AS INTEGER) AS guess
    FROM samples
),
binned AS (
    SELECT
        guessed.model, guessed.split, guessed.epoch, guessed.label, guessed.ce,
        guessed.weight,
        CASE
            WHEN guessed.ce < bins.lower THEN guessed.guess - 1
            WHEN guessed.ce >= bins.upper THEN guessed.guess + 1
            ELSE guessed.guess
        END AS bin
    FROM guessed JOIN bins ON bins.bin = guessed.guess
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
    ) AS fraction,
    $run_id AS run_id
FROM counted JOIN bins USING (bin)
WHERE all_classes OR counted.label IS NOT NULL
ORDER BY ALL
