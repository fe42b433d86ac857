"""A model page's three groupings from one read of its losses (sql/report_model_groups.sql)
equal a Polars group_by of the same rows, NULLs included: a row whose ce, label or
confidence is NULL leaves only that grouping, and other nights, models and epochs none."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from pipeline.report.data import linear_bins, model_groups

NIGHT = dt.date(2026, 11, 23)
BINS = 10


def _losses(rng: np.random.Generator, n: int) -> pl.DataFrame:
    label = rng.integers(0, 4, n).astype(float)
    confidence = rng.uniform(0, 1, n)
    ce = rng.exponential(1.5, n)
    label[rng.uniform(size=n) < 0.1] = np.nan
    confidence[rng.uniform(size=n) < 0.1] = np.nan
    ce[rng.uniform(size=n) < 0.05] = np.nan
    ce[:3] = [0.0, 31.0, 0.3]  # the first bar's edge and the open last bar
    confidence[:2] = [1.0, 0.0]  # both ends of the confidence bins
    return pl.DataFrame(
        {
            "snapshot_date": [NIGHT] * n,
            "model": rng.choice(["m", "other"], n, p=[0.8, 0.2]),
            "epoch": rng.choice([3, 4], n),
            "split": rng.choice(["train", "test"], n),
            "label": pl.Series(label, nan_to_null=True).cast(pl.Int64),
            "ce": pl.Series(ce, nan_to_null=True),
            "confidence": pl.Series(confidence, nan_to_null=True),
            "correct": pl.Series(rng.uniform(size=n) < 0.6).set(
                pl.Series(rng.uniform(size=n) < 0.05), None
            ),
        }
    )


def test_model_groups_equal_a_group_by_of_the_rows():
    rows = _losses(np.random.default_rng(5), 5000)
    names = pl.DataFrame(
        {"snapshot_date": [NIGHT] * 2, "model": ["m", "m"], "label": [0, 2], "name": ["cat", "owl"]}
    )
    connection = duckdb.connect()
    connection.register("loss_rows", rows.to_arrow())
    connection.register("name_rows", names.to_arrow())
    connection.execute("CREATE VIEW losses AS SELECT * FROM loss_rows")
    connection.execute("CREATE VIEW class_names AS SELECT * FROM name_rows")
    mine = rows.filter((pl.col("model") == "m") & (pl.col("epoch") == 3))
    bins = linear_bins(mine.group_by("split").agg(pl.col("ce").max())["ce"].to_list())
    assert bins["open_last"]  # 31 nats goes in the open last bar

    groups = model_groups(
        connection, {"snapshot_date": NIGHT, "model": "m", "epoch": 3}, bins, BINS
    )

    width, last = bins["width"], bins["last_bin"]
    linear = (
        mine.filter(pl.col("ce").is_not_null())
        .with_columns(bin=pl.min_horizontal((pl.col("ce") / width).floor(), last).cast(pl.Int64))
        .group_by("split", "bin")
        .agg(count=pl.len())
        .with_columns(fraction=pl.col("count") / pl.col("count").sum().over("split"))
        .sort("split", "bin")
    )
    got = groups.linear
    assert_frame_equal(got.select("split", "bin", "count", "fraction"), linear, check_dtypes=False)
    assert got["lower"].to_list() == [b * width for b in got["bin"].to_list()]
    assert got["upper"][-1] == np.inf

    per_class = (
        mine.filter(pl.col("label").is_not_null())
        .group_by("label", "split")
        .agg(
            n=pl.len(),
            mean_ce=pl.col("ce").mean(),
            accuracy=pl.col("correct").cast(pl.Float64).mean(),
        )
        .with_columns(
            **{"class": pl.col("label").replace_strict({0: "cat", 2: "owl"}, default=None)}
        )
        .with_columns(pl.col("class").fill_null(pl.col("label").cast(pl.String)))
        .select("label", "class", "split", "n", "mean_ce", "accuracy")
        .sort("label", "split")
    )
    assert_frame_equal(groups.per_class, per_class, check_dtypes=False, rel_tol=1e-12)

    calibration = (
        mine.filter(pl.col("confidence").is_not_null())
        .with_columns(
            confidence_bin=pl.min_horizontal((pl.col("confidence") * BINS).floor(), BINS - 1)
        )
        .group_by("split", "confidence_bin")
        .agg(
            n=pl.len(),
            mean_confidence=pl.col("confidence").mean(),
            accuracy=pl.col("correct").cast(pl.Float64).mean(),
        )
        .sort("split", "confidence_bin")
    )
    assert_frame_equal(groups.calibration, calibration, check_dtypes=False, rel_tol=1e-12)
