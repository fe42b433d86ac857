"""Reports published to an object store (`--reports s3://bucket/site/`) on the loopback
S3: every page, the shared script and the dashboard uploaded whole with its
Content-Type, nothing uploaded again that did not change, nothing left in the working
folder. (Opened in a browser through a static server: tests/system/browser.)"""

from __future__ import annotations

from pathlib import Path

import s3fs
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.report.publish import publish_site, reports_folder
from pipeline.warehouse.store import open_store
from tests.helpers.dumps import write_hive_split

NIGHT = "2026-11-23"


def publish_a_night(tmp_path: Path, bucket: str) -> tuple[str, s3fs.S3FileSystem]:
    for seed, split in enumerate(("train", "test")):
        write_hive_split(tmp_path / "inbox", NIGHT, "mlp", split, n=120, seed=seed)
    site = f"s3://{bucket}/site/"
    where = ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "wh")]
    done = CliRunner().invoke(app, ["run", *where, "--reports", site])
    assert done.exit_code == 0, done.output
    assert f"report: s3://{bucket}/site/{NIGHT}/index.html" in done.output
    return site, s3fs.S3FileSystem(skip_instance_cache=True)


def test_pages_are_uploaded_whole_with_their_content_type(tmp_path, bucket):
    site, fs = publish_a_night(tmp_path, bucket)
    keys = {key.removeprefix(f"{bucket}/site/") for key in fs.find(f"{bucket}/site")}
    assert {"index.html", f"{NIGHT}/index.html", f"{NIGHT}/verdicts.json",
            f"{NIGHT}/mlp.html"} <= keys  # fmt: skip
    script = next(key for key in keys if key.startswith("vega-") and key.endswith(".js"))
    kinds = {
        "index.html": "text/html; charset=utf-8",
        f"{NIGHT}/verdicts.json": "application/json",
        script: "text/javascript; charset=utf-8",
    }
    fs.invalidate_cache()  # the listing above holds no Content-Type: ask for each object
    for key, kind in kinds.items():
        assert fs.info(f"{bucket}/site/{key}")["ContentType"] == kind, key
    assert not any(key.startswith(".") or "/." in key for key in keys)  # no bookkeeping
    page = fs.cat(f"{bucket}/site/{NIGHT}/mlp.html").decode()
    assert f'src="../{script}"' in page  # relative: works on a static website
    local = tmp_path / "wh" / "lossgram.duckdb"
    mirror = reports_folder(site, local)
    assert (mirror / f"{NIGHT}" / "mlp.html").is_file() and mirror.parent == local.parent
    assert not (tmp_path / "reports").exists() and not Path("reports").exists()
    assert publish_site(mirror, open_store(site)) == []  # nothing changed: nothing sent


def test_a_report_republishes_only_what_changed(tmp_path, bucket):
    site, fs = publish_a_night(tmp_path, bucket)
    before = fs.info(f"{bucket}/site/{NIGHT}/mlp.html")["LastModified"]
    where = ["--warehouse", str(tmp_path / "wh"), "--reports", site]
    done = CliRunner().invoke(app, ["report", "--date", NIGHT, "--model", "mlp", *where])
    assert done.exit_code == 0, done.output
    assert f"index: s3://{bucket}/site/index.html" in done.output
    # The page was written again with the same content: its object was not replaced.
    assert fs.info(f"{bucket}/site/{NIGHT}/mlp.html")["LastModified"] == before
