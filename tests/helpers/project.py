"""The checkout the tests run in, its command lines run the way a deployer runs them, and a
port on 127.0.0.1 to serve them on."""

from __future__ import annotations

import socket
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


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on, handed out by the system."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
