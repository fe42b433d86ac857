"""A Spark standalone cluster on 127.0.0.1 for the tests: a master and workers started
from pyspark's own jars (spark-class), each a separate JVM, stopped afterwards."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pyspark

# For short test runs: a JVM that gets going fast (the client JIT alone, a serial GC) and
# no web UI. They change how soon Spark answers, not what it computes; bench/ runs without.
FAST_JVM = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
TEST_CONF = {
    "spark.ui.enabled": "false",
    "spark.driver.extraJavaOptions": FAST_JVM,
    "spark.executor.extraJavaOptions": FAST_JVM,
}


def fast_conf_setting(extra: dict[str, str] | None = None) -> str:
    """TEST_CONF (and extra) as the setting spark in LOSSGRAM_SPARK's key=value form."""
    return ",".join(f"{key}={value}" for key, value in {**TEST_CONF, **(extra or {})}.items())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spark_env() -> dict[str, str]:
    """Everything on loopback, the executors on this Python."""
    home = str(Path(pyspark.__file__).parent)
    return {
        **os.environ,
        "SPARK_HOME": home,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
    }


@contextmanager
def standalone_cluster(
    workdir: Path, workers: int = 2, daemon_java_opts: str | None = None
) -> Iterator[str]:
    """Yield the master URL once `workers` one-core workers have registered. The master's
    and workers' JVMs take daemon_java_opts (SPARK_DAEMON_JAVA_OPTS) when given."""
    env = spark_env()
    if daemon_java_opts is not None:
        env["SPARK_DAEMON_JAVA_OPTS"] = daemon_java_opts
    spark_class = str(Path(env["SPARK_HOME"]) / "bin" / "spark-class")
    port, ui = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    started: list[subprocess.Popen[bytes]] = []

    def launch(name: str, *args: str) -> None:
        log = (workdir / f"{name}.log").open("wb")
        started.append(
            subprocess.Popen(
                [spark_class, *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    try:
        launch(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
        )
        for index in range(workers):
            launch(
                f"worker-{index}",
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(free_port()),
                "--work-dir",
                str(workdir / f"work-{index}"),
                url,
            )
        _wait_for_workers(ui, workers, workdir)
        yield url
    finally:
        for process in started:
            with _quietly():
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with _quietly():
                    os.killpg(process.pid, signal.SIGKILL)


def _wait_for_workers(ui_port: int, workers: int, workdir: Path) -> None:
    deadline = time.monotonic() + 300  # a bound for a cluster that never comes up
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as page:
                state = json.load(page)
            if sum(worker["state"] == "ALIVE" for worker in state["workers"]) >= workers:
                return
        except OSError:
            pass
        time.sleep(0.2)
    logs = {path.name: path.read_text()[-2000:] for path in workdir.glob("*.log")}
    raise RuntimeError(f"the Spark cluster did not come up in 300 s: {logs}")


def _quietly() -> suppress:
    return suppress(ProcessLookupError)
