-- The `losses` view over the warehouse's per-sample Parquet (hive partitions give
-- snapshot_date and model). Literal: :losses_glob (an absolute path; DDL takes no
-- parameters, so pipeline.queries.ddl quotes it in). Binds: none
CREATE OR REPLACE VIEW losses AS SELECT * FROM read_parquet(:losses_glob, hive_partitioning = true,
    hive_types = {'snapshot_date': DATE, 'model': VARCHAR}, union_by_name = true)
