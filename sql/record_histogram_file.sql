-- List a night's new histogram file. Binds: $snapshot_date, $path, $rows, $run_id
INSERT INTO histogram_files VALUES ($snapshot_date, $path, $rows, $run_id)
