-- A night's pages as the warehouse stands: when it or a night before it (its pages show
-- their history) was last committed. A model page written under the same stamp is
-- current, so a render resumed after a failure keeps it. Binds: $snapshot_date
SELECT coalesce(max(committed_at)::VARCHAR, '') FROM snapshots
WHERE snapshot_date <= $snapshot_date
