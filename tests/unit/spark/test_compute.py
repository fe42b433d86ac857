"""How the Spark engine splits a night's dumps into tasks (no Spark needed)."""

from __future__ import annotations

from pipeline.spark.compute import plan_tasks


def test_plan_tasks_balances_bytes_and_keeps_every_dump_once():
    sizes = [900, 10, 10, 10, 500, 10, 400]
    tasks = plan_tasks(sizes, cores=2)
    assert sorted(p for task in tasks for p in task) == list(range(len(sizes)))
    assert len(tasks) == 4 and all(task == sorted(task) for task in tasks)
    assert [0] in tasks  # the biggest dump is a task alone
    assert plan_tasks([], cores=2) == [] and plan_tasks([5], cores=8) == [[0]]
