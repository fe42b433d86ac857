-- Take the files a run just retired out of the live set. Binds: $run_id
DELETE FROM live_files WHERE path IN (SELECT path FROM retired_files WHERE run_id = $run_id)
