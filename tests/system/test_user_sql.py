"""`lossgram sql` is read-only for real: every attempt below used to succeed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sql")
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        path = root / "inbox" / "2026-11-20" / f"model=mlp/split={split}/part-0.parquet"
        path.parent.mkdir(parents=True)
        pl.DataFrame(
            {
                "sample_id": np.arange(40),
                "label": rng.integers(0, 3, 40),
                "logits": pl.Series(rng.normal(size=(40, 3)), dtype=pl.Array(pl.Float64, 3)),
            }
        ).write_parquet(path)
    assert run_job(Settings(inbox=root / "inbox", warehouse=root / "wh")).status == "succeeded"
    (root / "other.duckdb").write_bytes(b"")
    return root


def sql(root: Path, query: str, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sql", query, "--warehouse", str(root / "wh"), *options])
    return result.exit_code, result.output


def live_rows(root: Path) -> int:
    code, output = sql(root, "select count(*) as n from losses", "--format", "csv")
    assert code == 0, output
    return int(output.splitlines()[1])


@pytest.mark.parametrize(
    "attempt",
    [
        "COPY (SELECT * FROM losses LIMIT 5) TO '{wh}/losses/snapshot_date=2026-11-20/zz.parquet'",
        "COPY (SELECT 1) TO '{root}/anywhere.csv'",
        "EXPORT DATABASE '{root}/export'",
        "ATTACH '{root}/other.duckdb' AS other",
        "CREATE OR REPLACE TEMP VIEW verdicts AS SELECT 'pwned' AS verdict",
        "SET threads = 1",
        "INSTALL httpfs",
        "SELECT 1; SELECT 2",
        "DROP TABLE verdicts",
        "PRAGMA version",
        # EXPLAIN ANALYZE runs its statement: this once rewrote a committed file
        "EXPLAIN ANALYZE COPY (SELECT 1) TO '{root}/anywhere.csv'",
        "EXPLAIN ANALYZE COPY (SELECT * FROM losses LIMIT 5) TO "
        "'{wh}/losses/snapshot_date=2026-11-20/zz.parquet'",
        "EXPLAIN (FORMAT json) INSERT INTO verdicts SELECT * FROM verdicts",
        "/* hidden */ EXPLAIN ANALYZE COPY (SELECT 1) TO '{root}/anywhere.csv'",
    ],
)
def test_writes_and_side_effects_are_refused(warehouse, attempt):
    before = live_rows(warehouse)
    query = attempt.format(wh=warehouse / "wh", root=warehouse)
    code, output = sql(warehouse, query)
    assert code == 2 and output.startswith("error: lossgram sql ")
    assert "\n" not in output.strip()  # one line
    assert live_rows(warehouse) == before
    assert not (warehouse / "anywhere.csv").exists() and not (warehouse / "export").exists()
    assert list((warehouse / "wh" / "losses").rglob("zz.parquet")) == []


@pytest.mark.parametrize(
    "attempt",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('/root/*')",
        "SELECT * FROM read_parquet('{root}/inbox/**/*.parquet')",
        # no folder is open, not even the losses': only each committed file by its path
        "SELECT * FROM read_parquet('{root}/wh/losses/**/*.parquet')",
    ],
)
def test_files_outside_the_warehouse_losses_cannot_be_read(warehouse, attempt):
    code, output = sql(warehouse, attempt.format(root=warehouse))
    assert code == 2 and output.startswith("error: query failed: Permission Error")


def test_a_query_that_never_ends_is_stopped(warehouse):
    never = "SELECT count(*) FROM range(1000000000000) a, range(1000000000000) b"
    code, output = sql(warehouse, never, "--timeout", "1")
    assert code == 2 and "query stopped after 1 s (--timeout)" in output


def test_table_output_is_capped_and_says_so(warehouse):
    code, output = sql(warehouse, "SELECT * FROM range(5000)")
    assert code == 0 and "showing the first 1000 rows (--limit)" in output
    code, output = sql(warehouse, "SELECT * FROM range(5000)", "--format", "csv")
    assert code == 0 and len(output.splitlines()) == 5001  # csv: every row unless asked
    code, output = sql(warehouse, "SELECT * FROM range(5000)", "--format", "csv", "--limit", "3")
    assert len(output.splitlines()) == 5 and "--limit" in output


def test_reads_still_work(warehouse):
    for query in (
        "SELECT model, verdict FROM verdicts",
        "WITH v AS (SELECT * FROM verdicts) SELECT count(*) FROM v",
        "FROM summaries",
        "DESCRIBE losses",
        "SHOW TABLES",
        "SUMMARIZE summaries",
        "EXPLAIN SELECT * FROM losses",
    ):
        code, output = sql(warehouse, query)
        assert code == 0, (query, output)


def test_piped_tables_are_whole_and_list_losses_once(warehouse):
    """Into a file or a pipe (not a terminal) no header or cell is cut to the 80 columns
    rich would assume; `show tables` names each table once."""
    code, output = sql(
        warehouse,
        "SELECT snapshot_date, model, split, sample_id, label, ce, p_true, confidence, pred,"
        " correct, n_classes, brier, clipped FROM losses LIMIT 2",
    )
    assert code == 0 and "…" not in output
    for column in ("snapshot_date", "confidence", "n_classes", "clipped"):
        assert column in output
    code, output = sql(warehouse, "SHOW TABLES", "--format", "csv")
    names = output.splitlines()[1:]
    assert names.count("losses") == 1 and len(names) == len(set(names))


@pytest.mark.parametrize("output_format", ["table", "csv", "json"])
def test_every_column_type_prints(warehouse, output_format):
    """Types Polars or CSV cannot hold come out as text, not a library error."""
    query = (
        "SELECT 1::VARIANT AS v, INTERVAL 1 DAY AS i, 'x'::BLOB AS b, '101'::BIT AS bt, "
        "union_value(k := 'a')::UNION(k VARCHAR, n INT) AS u, [1::VARIANT] AS lv, "
        "{'a': 1} AS s, [1, 2] AS l, [1, 2]::INT[2] AS arr, MAP {'k': 1} AS m, "
        "NULL::INT[] AS nothing, 2 AS s"
    )
    code, output = sql(warehouse, query, "--format", output_format)
    assert code == 0, output
    if output_format == "csv":
        header, row = output.splitlines()
        assert header == "v,i,b,bt,u,lv,s,l,arr,m,nothing,s_2"
        assert row == '1,1 day,x,101,a,[1],"{""a"": 1}","[1, 2]","[1, 2]","{""k"": 1}",,2'
    if output_format == "json":
        import json

        (row,) = json.loads(output)
        assert row["v"] == "1" and row["i"] == "1 day" and row["s"] == {"a": 1}
        assert row["l"] == [1, 2] and row["nothing"] is None and row["s_2"] == 2


def test_csv_keeps_what_csv_readers_need(warehouse):
    """A carriage return is quoted, an empty string is not a null, NaN reads as a float."""
    query = "SELECT chr(13) AS cr, '' AS empty, NULL::VARCHAR AS nothing, 'nan'::DOUBLE AS f"
    code, output = sql(warehouse, query, "--format", "csv")
    assert code == 0 and output == 'cr,empty,nothing,f\n"\r","",,NaN\n'


def test_the_timeout_covers_writing_the_rows():
    """--timeout 2 once let 20M rows print for 119 s: the text is made in chunks and given
    up, before anything is printed, once the deadline has passed."""
    from pipeline.cli.console import PrintTimeout, print_frame, print_rows

    rows = [(index,) for index in range(25_000)]
    with pytest.raises(PrintTimeout, match="--timeout"):
        print_rows(["i"], rows, "json", deadline=0.0)  # a deadline long past
    with pytest.raises(PrintTimeout):
        print_frame(pl.DataFrame({"i": range(10)}), "csv", deadline=0.0)


def test_json_in_chunks_is_the_same_document(capsys):
    from pipeline.cli.console import print_rows

    rows = [(index, f"r{index}") for index in range(25_001)]
    print_rows(["i", "name"], rows, "json", deadline=None)
    printed = capsys.readouterr().out
    assert json.loads(printed) == [{"i": i, "name": f"r{i}"} for i in range(25_001)]
    print_rows(["i"], [], "json")
    assert capsys.readouterr().out == "[]\n"


def test_a_query_runs_under_the_sql_memory_limit(warehouse, monkeypatch):
    monkeypatch.setenv("LOSSGRAM_SQL_MEMORY_LIMIT", "512MiB")
    code, output = sql(warehouse, "select current_setting('memory_limit') as m", "--format", "csv")
    assert code == 0 and output.splitlines()[1] == "512.0 MiB"


def test_duckdbs_hint_is_kept_in_the_one_line(warehouse):
    code, output = sql(warehouse, "select * from losess")
    assert code == 2 and output.strip().endswith('Did you mean "losses"?')
    code, output = sql(warehouse, "select modl from verdicts")
    assert code == 2 and 'Candidate bindings: "model"' in output and "\n" not in output.strip()


def test_table_cells_and_headers_are_data_not_markup(warehouse):
    """rich read cells as markup: `y[/]` stopped the command (exit 2), `[test] x` printed
    as ` x` and `:smile:` as an emoji. Every one is printed as it is."""
    values = {"closer": "y[/]", "[b]head[/b]": "[test] x", "e": ":smile:", "tag": "[red]r"}
    query = "SELECT " + ", ".join(f"'{value}' AS \"{name}\"" for name, value in values.items())
    code, output = sql(warehouse, query)
    assert code == 0, output
    for name, value in values.items():
        assert name in output and value in output
    assert "😄" not in output
