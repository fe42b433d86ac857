-- Sample ids that more than one dump of a night brings for the same (model, split,
-- epoch), as pairs of dumps (their places in the night's order, from the registered frame
-- `night_files`: file, dump_path, dump) with how many ids each pair shares. A batch file
-- names each row's dump in lossgram_dump (NULL in a one-dump file: the file names it);
-- rows of dumps not listed are left out. One pass, spilling to disk past the memory
-- limit: a night's ids never sit in Python.
-- Binds: $files
WITH rows AS (
    SELECT filename, lossgram_dump, model, split, epoch, sample_id
    FROM (
        SELECT * FROM read_parquet($files, filename = true, union_by_name = true)
        UNION ALL BY NAME SELECT NULL::VARCHAR AS lossgram_dump WHERE false
    )
),
ids AS (
    SELECT n.dump, l.model, l.split, l.epoch, CAST(l.sample_id AS VARCHAR) AS sample_id
    FROM rows AS l
    JOIN night_files AS n
        ON n.file = l.filename AND n.dump_path IS NOT DISTINCT FROM l.lossgram_dump
),
shared AS (
    SELECT model, split, epoch, list(DISTINCT dump) AS dumps
    FROM ids
    GROUP BY model, split, epoch, sample_id
    HAVING count(DISTINCT dump) > 1
)
SELECT model, split, epoch, earlier, later, count(*) AS ids
FROM shared, unnest(shared.dumps) AS e(earlier), unnest(shared.dumps) AS f(later)
WHERE earlier < later
GROUP BY ALL
ORDER BY ALL
