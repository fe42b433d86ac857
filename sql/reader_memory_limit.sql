-- The most memory a user's query may take (the setting sql_memory_limit), so a query
-- beside a nightly run leaves the writer room. Binds: $limit
SET memory_limit = $limit
