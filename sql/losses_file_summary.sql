-- n, mean and median loss per (model, split, epoch) of a per-sample losses Parquet file
-- (the summary `lossgram losses` prints; DuckDB's median spills, a Polars one holds every
-- value of every column it reads). Binds: $path
SELECT
    model, split, epoch,
    count(*) AS n,
    avg(ce) AS mean_ce,
    median(ce) AS median_ce,
    count(*) FILTER (WHERE clipped) AS clipped
FROM read_parquet($path)
GROUP BY ALL
ORDER BY model, split, epoch NULLS FIRST
