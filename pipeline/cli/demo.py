"""The bundled demo: real scikit-learn predictions on digits, two nights (data/demo)."""

from __future__ import annotations

import shutil
from pathlib import Path


def demo_dumps_dir() -> Path:
    """The demo dumps: inside the wheel (pipeline/demo), or the source tree's data/demo."""
    package = Path(__file__).parent.parent
    packaged = package / "demo"
    return packaged if packaged.is_dir() else package.parent / "data" / "demo"


def copy_demo_dumps(inbox: Path) -> list[str]:
    """Copy each demo night into inbox/<YYYY-MM-DD>/; returns the nights copied."""
    source = demo_dumps_dir()
    nights = sorted(path.name for path in source.iterdir() if path.is_dir())
    for night in nights:
        # copy2 keeps mtimes, so a second demo finds the dumps unchanged.
        shutil.copytree(
            source / night, inbox / night, dirs_exist_ok=True, copy_function=shutil.copy2
        )
    return nights
