-- The `losses` view over the warehouse's per-sample Parquet. Literal: :losses_glob
-- (an absolute path, quoted by pipeline.warehouse.quote_literal: DDL takes no parameters).
CREATE OR REPLACE VIEW losses AS
SELECT *
FROM read_parquet(
    :losses_glob,
    hive_partitioning = true,
    hive_types = {'snapshot_date': DATE, 'model': VARCHAR},
    union_by_name = true
)
