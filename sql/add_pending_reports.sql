-- Nights whose pages could not be written, for the next run to render. Binds: $nights
INSERT OR IGNORE INTO pending_reports SELECT unnest($nights::DATE[])
