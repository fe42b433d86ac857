-- The epoch a model's page shows for one night (the view judged_epochs). Binds:
-- $snapshot_date, $model
SELECT epoch FROM judged_epochs WHERE snapshot_date = $snapshot_date AND model = $model
