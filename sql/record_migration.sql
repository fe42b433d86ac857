-- Note a migration as applied. Binds: $version, $name
INSERT INTO schema_version (version, name) VALUES ($version, $name)
