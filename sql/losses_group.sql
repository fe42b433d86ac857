-- One group of per-sample files that share a schema, as a part of the `losses` source.
-- Literal: {{files}} (a list of paths). Binds: none
SELECT * FROM losses_parquet_alike({{files}})
