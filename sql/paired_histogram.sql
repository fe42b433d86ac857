-- The histogram of the per-sample loss differences (B - A) in bins of $width, centred on
-- 0 (bin k covers [(k - 0.5) * width, (k + 0.5) * width)); larger moves than $limit bins
-- either way fall in the end bins. Binds: $width, $limit
SELECT
    greatest(-$limit, least($limit, round(difference / $width)))::BIGINT AS bin,
    count(*) AS count,
    count(*) / sum(count(*)) OVER () AS fraction
FROM paired_losses
GROUP BY bin
ORDER BY bin
