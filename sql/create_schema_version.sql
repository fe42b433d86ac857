-- The table of applied migrations (sql/schema/NNN_*.sql). Binds: none
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now()
)
