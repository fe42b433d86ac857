-- The loss histograms of one night on Spark, as sql/histograms.sql computes them in
-- DuckDB: the same bin scheme (the temp view bin_edges: bin, lower, upper), the same
-- O(1) guess of a loss's bin from the scheme's formula, moved by one where float
-- rounding put it across a stored edge. Reads the temp view night_losses.
-- Binds: :snapshot_date, :scheme_id, :guess_kind, :guess_a, :guess_b, :last_bin, :run_id
WITH guessed AS (
    SELECT
        model, split, epoch, label, ce, weight,
        CAST(least(:last_bin, greatest(0, CASE
            WHEN :guess_kind = 'log' THEN
                CASE WHEN ce < :guess_a THEN 0
                     ELSE 1 + floor(:guess_b * log10(ce / :guess_a)) END
            ELSE floor(ce / :guess_a)
        END)) AS INT) AS guess
    FROM night_losses
),
binned AS (
    SELECT
        g.model, g.split, g.epoch, g.label, g.weight,
        CASE
            WHEN g.ce < b.lower THEN g.guess - 1
            WHEN g.ce >= b.upper THEN g.guess + 1
            ELSE g.guess
        END AS bin
    FROM guessed AS g JOIN bin_edges AS b ON b.bin = g.guess
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
    CAST(:snapshot_date AS DATE) AS snapshot_date,
    c.model,
    c.split,
    c.epoch,
    CASE WHEN c.all_classes THEN NULL ELSE c.label END AS label,
    :scheme_id AS scheme_id,
    c.bin,
    b.lower,
    b.upper,
    c.count,
    c.weight_sum,
    c.count / sum(c.count) OVER (
        PARTITION BY c.model, c.split, c.epoch, c.label, c.all_classes
    ) AS fraction,
    :run_id AS run_id
FROM counted AS c JOIN bin_edges AS b ON b.bin = c.bin
WHERE c.all_classes OR c.label IS NOT NULL
