"""The night page is written whatever the night holds: no verdict at all, many models,
model names a page or a chart could trip on."""

from __future__ import annotations

import json
import re

import numpy as np
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.report.compare import comparison_page_name
from pipeline.report.data import page_name
from pipeline.report.pages import MAX_NIGHT_PANELS
from tests.helpers.dumps import write_dump, write_hive_split

NIGHT = "2026-11-20"


def run(tmp_path, *extra: str):
    where = ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "wh")]
    return CliRunner().invoke(app, ["run", *where, "--reports", str(tmp_path / "r"), *extra])


def test_a_night_without_verdicts_gets_its_page_and_later_runs_succeed(tmp_path):
    """A night with a train split alone once was never rendered, and every later run
    exited 1 on 'no night D in the warehouse'."""
    write_hive_split(tmp_path / "inbox", NIGHT, "mlp", "train", n=60)
    first = run(tmp_path)
    assert first.exit_code == 0, first.output
    page = (tmp_path / "r" / NIGHT / "index.html").read_text()
    assert 'id="no-verdicts"' in page and "reference split with a held-out split" in page
    assert json.loads((tmp_path / "r" / NIGHT / "verdicts.json").read_text())["verdicts"] == []
    again = run(tmp_path)
    assert again.exit_code == 0, again.output


def panels_of(page: str) -> list[str]:
    """The models drawn in the night page's small multiples, in their order."""
    specs = json.loads(re.search(r"const lossgramCharts = (\{.*?\});\n", page, re.S).group(1))
    data = specs["night-histograms"]["datasets"]
    rows = [row for rows in data.values() for row in rows if row.get("kind") == "bar"]
    ranked = {row["model"]: row["panel"] for row in rows}
    return sorted(ranked, key=ranked.get)


def test_a_night_of_many_models_draws_the_worst_panels_and_lists_every_model(tmp_path):
    models = MAX_NIGHT_PANELS + 6
    for index in range(models):
        for seed, split in enumerate(("train", "test")):
            # a growing gap: model m029 overfits most
            signal = 2.0 + (index / 4 if split == "train" else 0.0)
            write_hive_split(
                tmp_path / "inbox", NIGHT, f"m{index:03d}", split, n=40, seed=seed, signal=signal
            )
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / NIGHT / "index.html").read_text()
    drawn = panels_of(page)
    assert len(drawn) == MAX_NIGHT_PANELS and "m029" in drawn and "m000" not in drawn
    assert 'id="panels-left-out"' in page and "The 6 models" in page
    assert all(f">m{index:03d}</a>" in page for index in range(models))  # every one listed


def test_model_names_that_could_break_a_chart_or_a_file_name(tmp_path):
    """A U+2028 or a newline in a name once broke every panel of the night (the names were
    written into a Vega expression); a long name failed with 'File name too long'."""
    rng = np.random.default_rng(0)
    names = ["a\u2028b", "line\nbreak", "x" * 300]
    for name in names:
        for split in ("train", "test"):
            write_dump(
                tmp_path / "inbox" / NIGHT / f"{abs(hash(name))}-{split}.parquet",
                {
                    "sample_id": np.arange(40),
                    "label": rng.integers(0, 3, 40),
                    "logits": rng.normal(size=(40, 3)),
                    "split": [split] * 40,
                    "model": [name] * 40,
                },
            )
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / NIGHT / "index.html").read_text()
    expressions = re.findall(r'"(?:calculate|filter|expr|test)": "([^"]*)"', page)
    assert not [e for e in expressions if "u2028" in e or "line" in e]
    assert sorted(panels_of(page)) == sorted(names)
    for name in names:
        assert len(page_name(name).encode()) < 255
        assert (tmp_path / "r" / NIGHT / page_name(name)).is_file()
    assert len(comparison_page_name(names).encode()) < 255
    compare = CliRunner().invoke(
        app,
        ["report", "--warehouse", str(tmp_path / "wh"), "--reports", str(tmp_path / "r"),
         "--compare", f"{names[2]},{names[0]}"],
    )  # fmt: skip
    assert compare.exit_code == 0, compare.output


def test_model_names_never_take_the_night_page_or_a_comparison_name(tmp_path):
    """A model named `index` once overwrote the night page; `compare-x` was listed among
    the night's comparisons."""
    for model in ("index", "compare-x"):
        for seed, split in enumerate(("train", "test")):
            write_hive_split(tmp_path / "inbox", NIGHT, model, split, n=40, seed=seed)
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    night = (tmp_path / "r" / NIGHT / "index.html").read_text()
    assert "<h1>Night " in night and 'id="comparisons"' in night
    comparisons = night.split('id="comparisons"')[1].split("</p>")[0]
    assert "compare-x" not in comparisons.split("<code>")[0]  # no page listed as one
    for model in ("index", "compare-x"):
        page = tmp_path / "r" / NIGHT / page_name(model)
        assert page.name.startswith("model-") and page.is_file()
        assert f'href="{page.name}"' in night


def test_the_paired_chart_keeps_control_characters_out_of_its_spec():
    """The compare page's paired chart once failed on 'Expression parse error': Vega-Lite
    writes titles (here the model names) into the marks' description expressions."""
    import polars as pl
    import vl_convert

    from pipeline.report.overview_charts import difference_histogram

    histogram = pl.DataFrame(
        {"bin": [-1, 0, 1], "lower": [-1.0, 0.0, 1.0], "upper": [0.0, 1.0, 2.0],
         "count": [1, 2, 1], "fraction": [0.25, 0.5, 0.25]}
    )  # fmt: skip
    spec = difference_histogram(histogram, "a\u2028b", "line\nbreak").to_dict()
    vega = json.dumps(vl_convert.vegalite_to_vega(spec), ensure_ascii=False)
    assert "\u2028" not in vega and "line\\nbreak" not in vega and "a b" in vega
