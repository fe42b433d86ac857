-- What became of each notification: one row per run, night and target (its URL shown as
-- scheme://host only: URLs carry secrets), sent or failed with why.
CREATE TABLE IF NOT EXISTS notifications (
    run_id VARCHAR NOT NULL,
    snapshot_date DATE,
    target VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR,
    attempts INTEGER NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE notifications IS 'Each notification a run (or lossgram notify) sent: per night and target, sent or failed with the reason.';
COMMENT ON COLUMN notifications.run_id IS 'The run that sent it (job_runs), or notify-<time> for lossgram notify.';
COMMENT ON COLUMN notifications.snapshot_date IS 'The night it was about (NULL for a run that committed none).';
COMMENT ON COLUMN notifications.target IS 'scheme://host of the target URL (the rest may be a secret and is never stored).';
COMMENT ON COLUMN notifications.status IS 'sent or failed.';
COMMENT ON COLUMN notifications.reason IS 'Why it failed (HTTP 500, no answer within 10 s, ...).';
COMMENT ON COLUMN notifications.attempts IS 'Attempts made (at most 3, with a doubling pause).';
COMMENT ON COLUMN notifications.sent_at IS 'When the last attempt ended (UTC).';
