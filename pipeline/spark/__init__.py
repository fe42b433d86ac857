"""The Spark engine: the nightly job's loss stage on Spark executors.

session (which SparkSession) -> compute (each task runs the embedded engine's own
compute_snapshot on its share of the night's dumps, on an executor). Nothing here is
imported unless the engine is spark, so pyspark stays an optional extra.
"""
