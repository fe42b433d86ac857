-- The class list each dump declared (lossgram.classes metadata or the classes setting):
-- label i of its rows is classes[i + 1].
ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS classes VARCHAR[];
COMMENT ON COLUMN ingested_files.classes IS 'The class names the dump declared (lossgram.classes metadata or the classes setting): label i is the (i+1)-th name; NULL when it declared none.';

-- The class names of each model's night, from the dumps of its live files (the first
-- dump by path where two disagree).
CREATE OR REPLACE VIEW class_names AS
WITH listed AS (
    SELECT
        f.snapshot_date,
        f.model,
        f.dump_path,
        generate_subscripts(i.classes, 1) - 1 AS label,
        unnest(i.classes) AS name
    FROM live_files AS f
    JOIN ingested_files AS i ON i.path = f.dump_path AND i.snapshot_date = f.snapshot_date
    WHERE i.classes IS NOT NULL
)
SELECT snapshot_date, model, label, name
FROM listed
QUALIFY row_number() OVER (PARTITION BY snapshot_date, model, label ORDER BY dump_path) = 1;
COMMENT ON VIEW class_names IS 'The name of each class index of a model''s night (label = 0-based index), from the class lists its dumps declared.';
