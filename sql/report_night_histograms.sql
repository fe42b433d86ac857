-- All-classes histograms of every model of one night, each at its judged (latest) epoch.
-- Binds: $snapshot_date
SELECT h.model, h.split, h.bin, h.lower, h.upper, h.fraction
FROM histograms AS h
WHERE h.snapshot_date = $snapshot_date AND h.label IS NULL
  AND h.epoch IS NOT DISTINCT FROM (
      SELECT max(s.epoch) FROM summaries AS s
      WHERE s.snapshot_date = h.snapshot_date AND s.model = h.model
  )
ORDER BY h.model, h.split, h.bin
