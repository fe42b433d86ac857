-- What the `losses` views read: the groups of files of one schema each, joined by column
-- name (the slice columns differ between dumps); a batch file's lossgram_dump column (the
-- dump of each row, for the pipeline) is left out, and files written before class_weight
-- read it as NULL (a one-column, no-row relation joined after the files' own columns).
-- Literal: {{groups}} (losses_group parts joined by UNION ALL BY NAME). Binds: none
SELECT COLUMNS(lambda c: c != 'lossgram_dump')
FROM (
    {{groups}}
    UNION ALL BY NAME
    SELECT CAST(NULL AS DOUBLE) AS class_weight WHERE false
)
