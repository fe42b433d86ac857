-- All-classes histograms of every model of one night, each at its judged epoch (the view
-- judged_epochs). Binds: $snapshot_date
SELECT h.model, h.split, h.bin, h.lower, h.upper, h.fraction
FROM histograms AS h
JOIN judged_epochs AS j
    ON j.snapshot_date = h.snapshot_date AND j.model = h.model
    AND h.epoch IS NOT DISTINCT FROM j.epoch
WHERE h.snapshot_date = $snapshot_date AND h.label IS NULL
ORDER BY h.model, h.split, h.bin
