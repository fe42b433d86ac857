"""Helpers shared by the tests and bench/: dumps to write, a warehouse's exact row
accounting, a hostile corpus, a loopback S3, a Spark cluster, a polling reader. Import
them as `from tests.helpers.dumps import write_hive_split` (the repository root on the
path: pytest's `pythonpath`, or `python -m bench.<script>` from the root)."""
