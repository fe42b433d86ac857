"""sql/spark/histograms.sql and sql/spark/summaries.sql are generated from the engine-neutral
sql/histograms.sql and sql/summaries.sql (pipeline/spark/transpile.py): the checked-in
files must be what the generator makes of their sources today."""

from __future__ import annotations

import difflib

import pytest

from pipeline.spark.transpile import GENERATED, spark_sql, spark_sql_path


@pytest.mark.parametrize("name", GENERATED)
def test_generated_spark_sql_has_not_drifted_from_its_source(name):
    path = spark_sql_path(name)
    generated, checked_in = spark_sql(name), path.read_text()
    diff = "".join(
        difflib.unified_diff(
            checked_in.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            fromfile=f"{path} (checked in)",
            tofile=f"{path} (generated from sql/{name}.sql)",
        )
    )
    assert not diff, (
        f"sql/spark/{name}.sql differs from what sql/{name}.sql generates; run "
        f"`python scripts/generate_spark_sql.py` and check the result in:\n{diff}"
    )


def test_the_generated_statements_bind_spark_parameters_and_keep_log10():
    histograms = spark_sql("histograms")
    assert "$" not in histograms and ":snapshot_date" in histograms
    assert "LOG10(" in histograms and "LOG(10" not in histograms
    assert histograms.startswith("-- Generated from sql/histograms.sql")
