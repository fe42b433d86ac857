"""The SparkSession of a run: one handed in from Python (inside a Databricks or EMR job,
say), or one built from the settings' master and spark.* configuration."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pipeline.base.errors import LossgramError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["EngineError", "SparkSession", "spark_session"]


class EngineError(LossgramError, RuntimeError):
    """The Spark engine cannot start: pyspark or Java is missing, or the master refused."""


# Settings a local run wants and a cluster keeps unless its conf says otherwise.
DEFAULT_CONF = {
    "spark.app.name": "lossgram",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_session(master: str, conf: Mapping[str, str]) -> SparkSession:
    """A SparkSession on master with conf (over DEFAULT_CONF); the active one when it is
    already running (getOrCreate). Executors started from here run this Python unless
    PYSPARK_PYTHON says otherwise."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(
            "engine spark needs pyspark: pip install 'lossgram[spark]' (and Java 17+)"
        ) from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineError(
            "engine spark needs Java 17 or newer (java not on PATH, JAVA_HOME unset); "
            "on Debian: apt-get install openjdk-17-jre-headless"
        )
    _master_answers(master)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master)
    for key, value in {**DEFAULT_CONF, **conf}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # py4j and JVM start-up errors have many types
        raise EngineError(
            f"cannot start Spark on {master} (the Spark log above says why; "
            "--debug shows the traceback)"
        ) from error
    with contextlib.suppress(Exception):  # a Spark Connect session has no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    return session


def _master_answers(master: str) -> None:
    """A standalone master (spark://host:port,...) that does not answer fails here in one
    line, not after Spark's minute of retries."""
    if not master.startswith("spark://"):
        return
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=5):
                return
        except (OSError, ValueError):
            continue
    raise EngineError(f"no Spark master answers at {master}: start it, or fix --spark-master")
