-- Whether the warehouse file has a schema_version table (a file lossgram made). Binds: none
SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'
