-- The newest migration applied (NULL for none). Binds: none
SELECT max(version) FROM schema_version
