-- How the shared samples moved from A to B, in the bins of the difference histogram
-- (sql/paired_histogram.sql): better = a bin below the centre, worse = above it, about
-- the same = the centre bin, |B - A| under half a bin ($width / 2); and the mean
-- difference. One definition for the counts and the chart's centre bar. Binds: $width
SELECT
    count(*) AS shared,
    count(*) FILTER (WHERE round(difference / $width) < 0) AS better,
    count(*) FILTER (WHERE round(difference / $width) > 0) AS worse,
    count(*) FILTER (WHERE round(difference / $width) = 0) AS same,
    avg(difference) AS mean_difference
FROM paired_losses
