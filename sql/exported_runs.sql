-- Which run wrote each exported table's file (its footer's lossgram.run_id), every file
-- under tables/ in one statement, read by DuckDB: a run with nothing new loads no
-- pyarrow and opens no file twice. Binds: $files (a glob), $key
SELECT file_name, decode(value) AS run_id
FROM parquet_kv_metadata($files)
WHERE decode(key) = $key
