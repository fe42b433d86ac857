"""Where things are, for tests in any folder of tests/: the repository, its README, the
demo dumps, the golden files, and the commands installed beside this Python."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEMO = ROOT / "data" / "demo"
GOLDEN = ROOT / "tests" / "golden"
BIN = Path(sys.executable).parent
LOSSGRAM = str(BIN / "lossgram")
