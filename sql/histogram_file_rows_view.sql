-- The stored view over the committed histogram files (histogram_files), by absolute
-- path, so the stock duckdb CLI reads them from any folder; the folder names the night.
-- Literal: {{histogram_files}} (a list of absolute paths). Binds: none
CREATE OR REPLACE VIEW histogram_file_rows AS
SELECT snapshot_date, model, split, epoch, label, scheme_id, bin, lower, upper, count,
    weight_sum, fraction, run_id
FROM read_parquet(
    {{histogram_files}}, hive_partitioning = true, hive_types = {'snapshot_date': DATE}
)
