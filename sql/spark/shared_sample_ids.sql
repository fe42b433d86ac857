-- The pairs of a night's dumps sharing sample ids per (model, split, epoch), with how
-- many ids each pair shares, as sql/shared_sample_ids.sql finds them in DuckDB. Reads the
-- temp view night_ids (dump, model, split, epoch, sample_id as text). Binds: none
WITH shared AS (
    SELECT model, split, epoch, array_distinct(collect_list(dump)) AS dumps
    FROM night_ids
    GROUP BY model, split, epoch, sample_id
    HAVING count(DISTINCT dump) > 1
)
SELECT model, split, epoch, earlier, later, count(*) AS ids
FROM shared
LATERAL VIEW explode(dumps) e AS earlier
LATERAL VIEW explode(dumps) f AS later
WHERE earlier < later
GROUP BY model, split, epoch, earlier, later
