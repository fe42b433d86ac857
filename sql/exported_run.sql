-- The run that wrote an exported table's file: its footer's lossgram.run_id (read by
-- DuckDB, so a run with nothing new loads no pyarrow). Binds: $path, $key
SELECT decode(value) AS run_id
FROM parquet_kv_metadata($path)
WHERE decode(key) = $key
