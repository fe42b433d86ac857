"""lossgram's tests, laid out like the package: unit/<stage>/ (one file per module),
integration/ (real DuckDB warehouses under tmp_path), system/ (the command line, crashes,
object stores, Spark, a browser). Shared helpers are in tests.helpers."""
