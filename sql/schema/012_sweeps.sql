-- Sweeps: the hyperparameters each dump declared (lossgram.params metadata, or the
-- key=value folders the param_keys setting names), each model's night's parameters, and
-- the models of a night that share parameter names as one sweep with its recommendation.
ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS param_names VARCHAR[];
ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS param_values VARCHAR[];
COMMENT ON COLUMN ingested_files.param_names IS 'The hyperparameters the dump declared (lossgram.params metadata, param_keys folders), by name; NULL when none.';
COMMENT ON COLUMN ingested_files.param_values IS 'Their values as text (JSON''s spelling for numbers and booleans), in param_names'' order.';

CREATE OR REPLACE VIEW model_params AS
WITH listed AS (
    SELECT f.snapshot_date, f.model, f.dump_path,
        unnest(i.param_names) AS param, unnest(i.param_values) AS value
    FROM live_files AS f
    JOIN ingested_files AS i ON i.path = f.dump_path AND i.snapshot_date = f.snapshot_date
    WHERE i.param_names IS NOT NULL
)
SELECT DISTINCT ON (snapshot_date, model, param) snapshot_date, model, param, value
FROM listed
ORDER BY snapshot_date, model, param, dump_path;
COMMENT ON VIEW model_params IS 'The hyperparameters of each model''s night, from the dumps of its live files (the first dump by path where two disagree).';

-- A sweep: the models of a night with the same parameter names (two or more). Each
-- model is judged by its first held-out split by name (as judged_epochs); the
-- recommended one has the lowest held-out mean loss among those with a verdict that is
-- neither overfit nor insufficient_data.
CREATE OR REPLACE VIEW sweeps AS
WITH signature AS (
    SELECT snapshot_date, model, string_agg(param, ', ' ORDER BY param) AS sweep
    FROM model_params
    GROUP BY ALL
),
judged AS (
    SELECT snapshot_date, model, heldout_split, mean_heldout, normalised_gap, verdict,
        best_epoch, epoch
    FROM verdicts
    QUALIFY row_number() OVER (PARTITION BY snapshot_date, model ORDER BY heldout_split) = 1
),
members AS (
    SELECT s.snapshot_date, s.sweep, s.model, j.heldout_split, j.mean_heldout,
        j.normalised_gap, j.verdict, j.best_epoch, j.epoch,
        count(*) OVER (PARTITION BY s.snapshot_date, s.sweep) AS size,
        coalesce(j.verdict NOT IN ('overfit', 'insufficient_data'), false) AS eligible
    FROM signature AS s
    LEFT JOIN judged AS j USING (snapshot_date, model)
),
ranked AS (
    SELECT *,
        eligible AND row_number() OVER (
            PARTITION BY snapshot_date, sweep
            ORDER BY eligible DESC, mean_heldout NULLS LAST, model
        ) = 1 AS recommended
    FROM members
    WHERE size >= 2
)
SELECT r.snapshot_date, r.sweep, r.model, p.param, p.value,
    TRY_CAST(p.value AS DOUBLE) AS value_number,
    r.heldout_split, r.mean_heldout AS heldout_mean_ce, r.normalised_gap AS gap_over_h,
    r.verdict, r.epoch, r.best_epoch, r.recommended
FROM ranked AS r
JOIN model_params AS p USING (snapshot_date, model)
ORDER BY r.snapshot_date, r.sweep, r.model, p.param;
COMMENT ON VIEW sweeps IS 'The models of a night that declare the same parameter names (two or more), one row per model and parameter: its held-out mean loss, gap / H and verdict (its first held-out split by name), and recommended = the lowest held-out loss among the models neither overfit nor short of data.';
