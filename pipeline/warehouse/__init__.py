"""The warehouse: where the night's losses and aggregates are kept.

store (local disk or object store) -> layout (where each file goes) -> catalog (the
DuckDB file: copy-on-write commits, read-only connections) -> ledger (runs, dumps,
live files) -> exports (aggregate tables as Parquet for outside readers); queries loads
the SQL statements of sql/.
"""
