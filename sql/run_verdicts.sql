-- Verdicts of some snapshots, for a run's summary. Binds: $snapshot_dates (list of dates)
SELECT snapshot_date, model, heldout_split, epoch, verdict, reason, gap, normalised_gap
FROM verdicts WHERE list_contains($snapshot_dates::DATE[], snapshot_date)
ORDER BY snapshot_date, model, heldout_split
