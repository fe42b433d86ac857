-- The stored `losses` view: the committed per-sample files (live_files), by absolute
-- path, so the stock duckdb CLI reads them from any folder. A catalog copied or moved
-- elsewhere raises an error naming what to do, instead of reading the old folder's files.
-- Literal: {{losses_source}} (sql/losses_source.sql, filled), {{catalog_path}} (DDL takes
-- no parameters, so pipeline.warehouse.queries.ddl quotes them in). Binds: none
CREATE OR REPLACE VIEW losses AS
SELECT committed.*
FROM ({{losses_source}}) AS committed
WHERE CASE
    WHEN (SELECT count(*) FROM duckdb_databases() WHERE path = {{catalog_path}}) > 0 THEN true
    ELSE error('this lossgram catalog was copied or moved from ' || {{catalog_path}}
        || ': query it with `lossgram sql`, or run `lossgram run` once where it is now')
END
