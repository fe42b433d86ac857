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
