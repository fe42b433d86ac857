"""Report data without a warehouse: round linear bins, safe and distinct page names (the
linear histogram on a real warehouse: tests/integration/test_report.py)."""

from __future__ import annotations

import pytest

from pipeline.report.data import linear_bins, page_name


@pytest.mark.parametrize(
    ("largest", "width", "last_bin", "open_last"),
    [
        ([2.47, 2.31], 0.1, 24, False),  # about 40 bars up to the largest loss
        ([0.004], 0.0001, 40, False),
        ([12.0, 45.0], 1.0, 30, True),  # capped at 30 nats, the rest in one open bar
        ([], 0.025, 40, False),
    ],
)
def test_linear_bins_are_round_and_cover_the_losses(largest, width, last_bin, open_last):
    binds = linear_bins(largest)
    assert binds["width"] == pytest.approx(width)
    assert (binds["last_bin"], binds["open_last"]) == (last_bin, open_last)


@pytest.mark.parametrize("model", ["../../etc/passwd", "a/b", "..", "</script><b>x", "ü 模型", ""])
def test_page_names_are_safe_and_distinct(model):
    name = page_name(model)
    assert "/" not in name and not name.startswith(".") and name.endswith(".html")
    assert name != page_name(model + "x")
