"""Kill soak: lossgram killed at random points and random moments on a multi-million-row
warehouse, with readers polling, and exact accounting checked after every recovery.

    .venv/bin/python -m bench.kill_soak [--kills 20] [--rows 1000000] [--seed 0]

(from the repository root: it imports tests.helpers).

Each cycle picks a command (a run of a new night, or a rerun of a committed one), and
either a named kill point (LOSSGRAM_KILL_AT) or a random delay after which the process
gets SIGKILL. A reader polls at 20 Hz and another holds one connection throughout. After
the kill the next `lossgram run` must succeed and the warehouse must account for every
row exactly (tests/helpers/accounting.py). Prints one line per cycle and a summary; exits
non-zero if any check failed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers.accounting import check_accounting, query
from tests.helpers.dumps import write_hive_split

READER = Path(__file__).resolve().parent.parent / "tests" / "helpers" / "whole_nights_reader.py"

LOSSGRAM = str(Path(sys.executable).parent / "lossgram")
POINTS = [  # a run or rerun of one night makes one commit, and one more after its pages
    "after_start",
    "after_place:1",
    "after_place:2",
    "during_aggregation",
    "before_commit",
    "before_catalog_swap:1",
    "after_catalog_swap:1",
    "during_render",
    "before_catalog_swap:2",
]


def write_night(inbox: Path, night: str, rows: int, seed: int) -> None:
    """Two models x train/test, rows in all, 10 classes."""
    for index, (model, split) in enumerate(
        [("mlp", "train"), ("mlp", "test"), ("tree", "train"), ("tree", "test")]
    ):
        signal = 2.0 if split == "train" else 0.7
        write_hive_split(
            inbox,
            night,
            model,
            split,
            n=rows // 4,
            classes=10,
            signal=signal,
            seed=seed * 4 + index,
        )


def command(root: Path, *args: str) -> list[str]:
    line = [LOSSGRAM, *args, "--warehouse", str(root / "wh"), "--reports", str(root / "rp")]
    return line + (["--inbox", str(root / "inbox")] if args[0] == "run" else [])


def killed(root: Path, args: list[str], point: str | None, delay: float) -> int:
    env = {k: v for k, v in os.environ.items() if k != "LOSSGRAM_KILL_AT"}
    if point:
        env["LOSSGRAM_KILL_AT"] = point
    process = subprocess.Popen(command(root, *args), env=env, stdout=subprocess.DEVNULL)
    if point is None:
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
    return process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per night")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="kill-soak-"))
    write_night(root / "inbox", "2026-11-01", args.rows, seed=0)
    subprocess.run(command(root, "run"), check=True, stdout=subprocess.DEVNULL)
    readers = [
        subprocess.Popen(
            [sys.executable, str(READER), str(root / "wh"),
             str(root / "stop"), str(root / f"reader-{hold}.json"), *(["--hold"] if hold else [])]
        )
        for hold in (False, True)
    ]  # fmt: skip
    failures = 0
    for cycle in range(args.kills):
        rerun = cycle % 3 == 2
        night = f"2026-11-{cycle + 2:02d}"
        if not rerun:
            write_night(root / "inbox", night, args.rows, seed=cycle + 1)
        arguments = ["rerun", "--date", "2026-11-01"] if rerun else ["run"]
        point = rng.choice(POINTS) if rng.random() < 0.6 else None
        delay = rng.uniform(0.5, 8.0)
        started = time.monotonic()
        code = killed(root, arguments, point, delay)
        recovered = subprocess.run(command(root, "run"), stdout=subprocess.DEVNULL).returncode
        try:
            check_accounting(root)
            verdict = "ok"
        except AssertionError as error:
            verdict, failures = f"FAILED: {error}", failures + 1
        rows = query(root, "SELECT count(*) FROM losses")[0][0]
        how = point or f"after {delay:.1f} s"
        print(
            f"{cycle + 1:2d} {' '.join(arguments):24} killed {how:22} exit {code:3d}"
            f" -> recovery exit {recovered}, {rows:,} rows, {verdict}"
            f" ({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        failures += recovered != 0
    (root / "stop").touch()
    for reader in readers:
        reader.wait(timeout=120)
    for hold in (False, True):
        seen = (root / f"reader-{hold}.json").read_text()
        print(f"reader {'holding one connection' if hold else 'polling at 20 Hz'}: {seen[:300]}")
        failures += '"torn": []' not in seen or '"errors": []' not in seen
    print(f"{args.kills} kills, {failures} failures; warehouse in {root}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
