"""One local Spark session per test worker, for every test of this folder (they run on
one worker: the xdist_group "spark" in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[2] session; its executors are Python workers of this venv. TEST_CONF: a
    JVM that starts fast, no web UI."""
    from pipeline.spark.session import spark_session
    from tests.helpers.spark_cluster import TEST_CONF

    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "2", **TEST_CONF})
    yield session
    session.stop()
