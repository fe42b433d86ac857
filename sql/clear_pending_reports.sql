-- Nights whose pages are now written. Binds: $nights
DELETE FROM pending_reports WHERE list_contains($nights::DATE[], snapshot_date)
