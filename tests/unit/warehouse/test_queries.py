"""Every file in sql/ is one whole statement whose header says what it binds."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse.queries import Fragment, ddl, load_sql, sql_dir

STATEMENTS = sorted(path.stem for path in sql_dir().glob("*.sql"))
PARAMETER = re.compile(r"\$([a-z_]+)")
LITERAL = re.compile(r"\{\{([a-z_]+)\}\}")


def header_and_body(name: str) -> tuple[str, str]:
    lines = load_sql(name).splitlines()
    header = [line for line in lines if line.startswith("--")]
    body = [line for line in lines if not line.startswith("--")]
    assert lines[0].startswith("--"), f"{name}.sql opens without a comment"
    return " ".join(line.removeprefix("--") for line in header), "\n".join(body)


def declared(header: str, label: str) -> set[str] | None:
    """The names after `Binds:` (or `Literal:`), up to the end of that sentence."""
    match = re.search(label + r":(.*?)(?:\.\s|\.$|$)", header)
    # $name (DuckDB) or :name (Spark) binds, {{name}} literals
    names = r"[$:]([a-z_]+)|\{\{([a-z_]+)\}\}"
    return None if match is None else {a or b for a, b in re.findall(names, match.group(1))}


def test_there_are_statements():
    assert len(STATEMENTS) > 40


@pytest.mark.parametrize("name", STATEMENTS)
def test_binds_header_matches_the_parameters_used(name):
    header, body = header_and_body(name)
    binds = declared(header, "Binds")
    assert binds is not None, f"{name}.sql has no `Binds:` in its header"
    assert binds == set(PARAMETER.findall(body)), f"{name}.sql: header says {sorted(binds)}"
    literals = declared(header, "Literal") or set()
    assert literals == set(LITERAL.findall(body)), f"{name}.sql: literals {sorted(literals)}"


# Literals that take SQL ddl() made (a Fragment), with one to try each file with.
FRAGMENT_LITERALS = {
    "losses_source": Fragment("SELECT 1 AS x"),
    "groups": Fragment("SELECT 1 AS x"),
    "month_view": Fragment('"losses_of_2026_01"'),
}


@pytest.mark.parametrize("name", STATEMENTS)
def test_each_file_is_one_whole_statement(name):
    _, body = header_and_body(name)
    # A literal that takes a filled statement (a Fragment) gets one; the others a string.
    literals = {literal: FRAGMENT_LITERALS.get(literal, "x") for literal in LITERAL.findall(body)}
    text = ddl(name, **literals) if "{{" in body else body
    assert len(duckdb.extract_statements(text)) == 1


def test_a_wrong_header_is_caught():
    header = "Store it. Binds: $snapshot_date, $models"
    assert declared(header, "Binds") == {"snapshot_date", "models"}
    used = set(PARAMETER.findall("WHERE snapshot_date = $snapshot_date"))
    assert declared(header, "Binds") != used


def test_sql_dir_is_the_source_tree_or_the_wheel():
    assert sql_dir().name == "sql" and Path(sql_dir(), "histograms.sql").is_file()


SPARK_STATEMENTS = sorted(path.stem for path in (sql_dir() / "spark").glob("*.sql"))
SPARK_PARAMETER = re.compile(r"(?<![:\w]):([a-z_]+)\b")


@pytest.mark.parametrize("name", SPARK_STATEMENTS)
def test_spark_statements_declare_their_parameters(name):
    header, body = header_and_body(f"spark/{name}")
    binds = declared(header, "Binds")
    assert binds == set(SPARK_PARAMETER.findall(body)), f"spark/{name}.sql: header {binds}"
    assert ";" not in body  # one statement


def test_there_are_spark_statements():
    assert SPARK_STATEMENTS == ["fine_histograms", "histograms", "shared_sample_ids", "summaries"]
