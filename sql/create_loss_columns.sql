-- An empty table with the per-sample losses' columns, from the registered frame
-- `empty_losses` (pipeline.contract.cross_entropy.LOSS_SCHEMA plus model and snapshot_date). Binds: none
CREATE OR REPLACE TABLE loss_columns AS SELECT * FROM empty_losses
