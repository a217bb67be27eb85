"""Starting and stopping the two servers: one Uvicorn worker each, pinned to CPU 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.settings import HOST, PROJECT_DIR, VENV_BIN, WORK_DIR, BenchSettings

SERVER_CPU = "0"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Server:
    name: str  # "app" or "reference"
    port: int
    pid: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def _uvicorn(target: str, port: int) -> list[str]:
    return [
        "taskset", "-c", SERVER_CPU, str(VENV_BIN / "uvicorn"), target,
        "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        "--app-dir", str(PROJECT_DIR),
    ]  # fmt: skip


def _environment(settings: BenchSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))}
    env.update(
        ENVIRONMENT="production",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        BENCH_REF_DATABASE_URL=settings.database_url,
        BCRYPT_ROUNDS=str(settings.bcrypt_rounds),
        # The load comes from one address and logs in many times: no rate limits.
        LOGIN_ATTEMPTS_PER_ADDRESS="0",
        LOGIN_FAILURES_PER_ACCOUNT="0",
        REGISTRATIONS_PER_ADDRESS="0",
        PASSWORD_CHANGES_PER_ACCOUNT="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_up(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {process.returncode} on start:\n"
                + server.log.read_text()[-4000:]
            )
        try:
            health = f"{server.base_url}/health"  # http://127.0.0.1 only
            with urllib.request.urlopen(health, timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer /health within {START_TIMEOUT:g}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (Uvicorn and taskset's child), then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _ensure_free(port: int) -> None:
    """Refuse a port something already listens on (another bench still running, say): its
    answers would be taken for ours."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        if probe.connect_ex((HOST, port)) == 0:
            raise SystemExit(
                f"port {port} on {HOST} is in use: is another bench running? "
                "(BENCH_APP_PORT and BENCH_REF_PORT choose others)"
            )


@contextmanager
def serve(name: str, target: str, port: int, settings: BenchSettings) -> Iterator[Server]:
    """A server for the duration of the block; stopped however the block ends."""
    _ensure_free(port)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log_path = WORK_DIR / f"{name}.log"
    with ExitStack() as stack:
        log: IO[bytes] = stack.enter_context(log_path.open("wb"))
        process = subprocess.Popen(
            _uvicorn(target, port),
            cwd=WORK_DIR,  # away from the project's .env: only the settings given here count
            env=_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, which _stop ends as a whole
        )
        stack.callback(_stop, process)
        server = Server(name=name, port=port, pid=process.pid, log=log_path)
        _wait_until_up(server, process)
        yield server


APP_TARGET = "blog_api.main:app"
REFERENCE_TARGET = "bench.reference:app"
