-- What the `losses` views read: the groups of files of one schema each, joined by column
-- name (the slice columns differ between dumps); a batch file's lossgram_dump column (the
-- dump of each row, for the pipeline) is left out, and files written before class_weight
-- read it as NULL (a one-column, no-row relation joined after the files' own columns).
-- Two columns a file may leave NULL are derived, as they were computed: `correct` is
-- pred = label, and `p_true` is exp(-ce) where the loss settings make it so (no class
-- weights, label smoothing or soft labels: pipeline/contract/cross_entropy.py); a stored
-- value is never NULL where the derived one is not, so coalesce keeps every stored one.
-- Literal: {{groups}} (losses_group parts joined by UNION ALL BY NAME). Binds: none
SELECT COLUMNS(lambda c: c != 'lossgram_dump')
FROM (
    SELECT * REPLACE (
        coalesce(p_true, exp(-ce)) AS p_true,
        coalesce(correct, pred = label) AS correct
    )
    FROM (
        {{groups}}
        UNION ALL BY NAME
        SELECT CAST(NULL AS DOUBLE) AS class_weight WHERE false
    )
)
