"""Layering contract: the core imports no UI (harlequin-style, checked via sys.modules)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = ["pipeline.settings", "pipeline.dumps", "pipeline.losses", "pipeline.jobs"]
UI = ["typer", "altair", "jinja2", "rich"]


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_ui(module):
    code = f"import sys, {module}; print(','.join(m for m in {UI!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"importing {module} pulled in {loaded}"
