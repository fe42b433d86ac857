"""A reader that polls a warehouse while a writer works, as an analyst or a dashboard
would, and records every time it saw a night that was not whole.

Usage: python whole_nights_reader.py WAREHOUSE STOP_FILE OUT_JSON [--hold] [--hz 20]
       [--ready FILE]

Each poll opens the catalog read-only with the plain duckdb library (the stored `losses`
view, as the stock CLI sees it) and compares, per night, the rows in `losses` with the
samples the night's `summaries` count. --hold keeps one connection open for the whole
run instead (a long analyst session), re-querying it. --ready FILE is created after the
first read (or its error): a caller waits for it instead of guessing how long that takes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

QUERY = """
SELECT coalesce(l.snapshot_date, s.snapshot_date), l.rows, s.samples
FROM (SELECT snapshot_date, count(*) AS rows FROM losses GROUP BY ALL) AS l
FULL JOIN (SELECT snapshot_date, sum(n) AS samples FROM summaries GROUP BY ALL) AS s
    ON l.snapshot_date = s.snapshot_date
"""


def look(connection: duckdb.DuckDBPyConnection) -> list[str]:
    torn = []
    for night, rows, samples in connection.execute(QUERY).fetchall():
        if rows != samples:
            torn.append(f"{night}: {rows} rows in losses, summaries count {samples}")
    return torn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("stop", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--hz", type=float, default=20.0)
    parser.add_argument("--ready", type=Path)
    args = parser.parse_args()
    database = args.warehouse / "lossgram.duckdb"
    polls, torn, errors = 0, [], []
    held = None
    deadline = time.monotonic() + 900  # a reader left behind stops
    while not args.stop.exists() and time.monotonic() < deadline:
        time.sleep(1 / args.hz)
        if not database.exists():
            continue
        try:
            if args.hold:
                held = held or duckdb.connect(str(database), read_only=True)
                torn += look(held)
            else:
                with duckdb.connect(str(database), read_only=True) as connection:
                    torn += look(connection)
            polls += 1
        except duckdb.Error as error:
            errors.append(str(error).splitlines()[0])
        if args.ready is not None and not args.ready.exists():
            args.ready.touch()  # the first read is done (its error, if any, recorded)
    args.out.write_text(json.dumps({"polls": polls, "torn": torn, "errors": errors}))


if __name__ == "__main__":
    main()
