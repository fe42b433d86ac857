-- A session's own view over the committed histogram files, where the warehouse folder
-- now is (a reader of a copied or moved catalog; the stored `histograms` view reads it).
-- Literal: {{histogram_files}} (a list of absolute paths). Binds: none
CREATE OR REPLACE TEMP VIEW histogram_file_rows AS
SELECT snapshot_date, model, split, epoch, label, scheme_id, bin, lower, upper, count,
    weight_sum, fraction, run_id
FROM read_parquet(
    {{histogram_files}}, hive_partitioning = true, hive_types = {'snapshot_date': DATE}
)
