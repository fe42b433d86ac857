"""The report's chart scripts: one inlinable bundle, shared under its content hash,
cached on disk per vl-convert version."""

from __future__ import annotations

import re

from pipeline.report.pages import bundle_tag, bundle_text, shared_bundle, vega_bundle


def test_bundle_is_inlinable():
    bundle = str(vega_bundle()).removeprefix("<script>").removesuffix("</script>")
    assert "</script" not in bundle
    assert "vegaEmbed" in bundle and "cdn.jsdelivr" not in bundle
    assert len(bundle) < 1_200_000


def test_shared_bundle_is_written_once_under_its_content_hash(tmp_path):
    name = shared_bundle(tmp_path)
    assert re.fullmatch(r"vega-[0-9a-f]{16}\.js", name)
    written = (tmp_path / name).stat().st_mtime_ns
    assert shared_bundle(tmp_path) == name and (tmp_path / name).stat().st_mtime_ns == written
    assert (tmp_path / name).read_text() == bundle_text()
    assert str(bundle_tag(name, depth=1)) == f'<script src="../{name}"></script>'
    assert str(bundle_tag(name, depth=0)) == f'<script src="{name}"></script>'


def test_bundle_is_cached_on_disk_per_vl_convert_version(tmp_path, monkeypatch):
    import vl_convert

    from pipeline.report import pages

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = pages.bundle_text.__wrapped__()
    cached = list((tmp_path / "lossgram").glob("vega-bundle-*.js"))
    assert len(cached) == 1

    def not_again(*args, **kwargs):
        raise AssertionError("the bundle was built again instead of read from the cache")

    monkeypatch.setattr(vl_convert, "javascript_bundle", not_again)
    assert pages.bundle_text.__wrapped__() == built


def test_a_year_of_nights_makes_a_dashboard_of_bounded_size():
    """365 nights of 20 models: the charts draw the latest DASHBOARD_NIGHTS nights from one
    shared copy of their data, the table lists as many, and every older night is linked."""
    import datetime as dt
    import json

    import numpy as np
    import polars as pl

    from pipeline.report.pages import DASHBOARD_NIGHTS, render_index

    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    all_nights = [
        {"snapshot_date": day, "models": 20, "overfit": 1, "possible_overfit": 0,
         "underfit": 2, "good_fit": 17, "insufficient_data": 0}
        for day in reversed(days)
    ]  # fmt: skip
    drawn = days[-DASHBOARD_NIGHTS:]
    rng = np.random.default_rng(0)
    n = len(drawn) * 20
    dashboard = pl.DataFrame(
        {
            "snapshot_date": pl.Series([day for day in drawn for _ in range(20)], dtype=pl.Date),
            "model": [f"model-{m:02d}" for m in range(20)] * len(drawn),
            "heldout_split": ["test"] * n,
            "verdict": ["good_fit"] * n,
            "mean_heldout": rng.random(n),
            "normalised_gap": rng.random(n) / 10,
        }
    )
    page = render_index(all_nights, dashboard, "vega-0123456789abcdef.js")  # not inlined
    assert len(page.encode()) < 300_000
    data = json.loads(re.search(r"const lossgramData = (\{.*\});", page).group(1))
    assert [len(rows) for rows in data.values()] == [n]  # one copy, every drawn row
    charts = json.loads(re.search(r"const lossgramCharts = (\{.*\});", page).group(1))
    assert all(spec["data"]["name"] in data and "datasets" not in spec for spec in charts.values())
    listed = re.findall(r'<a href="(\d{4}-\d\d-\d\d)/index.html">', page)
    assert sorted(set(listed)) == [day.isoformat() for day in days]  # every night linked
    table = page.split("<table>")[1].split("</table>")[0]
    assert table.count("<tr><td") == DASHBOARD_NIGHTS
