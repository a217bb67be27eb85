"""The checkout the tests run in, and its command lines run the way a deployer runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the alembic command line the way a deployer does, against `url`."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={url}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
