"""Running wrk (pinned to CPU 1) and reading back what it measured."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.settings import BENCH_DIR, HOST, WORK_DIR

LUA_DIR = BENCH_DIR / "lua"
CLIENT_CPU = "1"
TIMEOUT_SECONDS = 30
MARKER = "BENCH_RESULT "


@dataclass(frozen=True, slots=True)
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """The path of wrk, installed from Debian's packages when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it with apt-get", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed (apt-get install wrk)")
    return found


def script(name: str) -> Path:
    """A bench Lua script with the reporting `done` function appended, under bench/.work/."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / f"{name}.lua"
    path.write_text((LUA_DIR / f"{name}.lua").read_text() + (LUA_DIR / "report.lua").read_text())
    return path


def paths_file(name: str, paths: list[str]) -> Path:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / f"paths-{name}.txt"
    path.write_text("".join(f"{p}\n" for p in paths))
    return path


def run(
    port: int,
    lua: Path,
    args: list[str],
    *,
    seconds: float,
    connections: int,
) -> Measurement:
    command = [
        "taskset", "-c", CLIENT_CPU, ensure_wrk(),
        "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
        "--timeout", f"{TIMEOUT_SECONDS}s", "-s", str(lua),
        f"http://{HOST}:{port}/", "--", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line.removeprefix(MARKER))
            break
    else:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Measurement(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        max_ms=data["max_us"] / 1e3,
        errors=errors,
    )
