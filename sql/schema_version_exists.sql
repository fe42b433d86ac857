-- Whether the warehouse file has a schema_version table (a file lossgram made); from
-- duckdb_tables(), which a new connection answers in a third of the time
-- information_schema.tables takes (it binds every view too). Binds: none
SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version'
