-- One model's split of one night in training_dynamics (sql/training_dynamics_view.sql),
-- as a temporary view for the cartography queries. Literal: {{snapshot_date}},
-- {{model}}, {{split}} (DDL takes no parameters, so pipeline.warehouse.queries.ddl
-- quotes them in). Binds: none
CREATE OR REPLACE TEMP VIEW sample_dynamics AS
SELECT * FROM training_dynamics
WHERE snapshot_date = CAST({{snapshot_date}} AS DATE) AND model = {{model}} AND split = {{split}}
