-- Note where the catalog is now (its stored view was just made here). Binds: $path
INSERT INTO catalog_location VALUES ($path)
