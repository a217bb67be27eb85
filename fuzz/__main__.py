"""Fuzz the served API with schemathesis: every operation, authenticated, stateful links,
bounded in time. Any 5xx, answer outside the schema, or undocumented status fails.

    python -m fuzz                      # SQLite, 120 s
    FUZZ_DB=postgresql FUZZ_MAX_TIME=300 python -m fuzz

Settings (environment): FUZZ_DB (sqlite | postgresql), FUZZ_PG_URL (a database of its own,
dropped and created: default postgresql://postgres@127.0.0.1:5432/blog_api_fuzz),
FUZZ_MAX_TIME (seconds of schemathesis, default 120), FUZZ_PORT (default: a free one),
FUZZ_WORKERS (schemathesis workers, default 2), FUZZ_REPORT_DIR (junit report, optional).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PASSWORD = "fuzzing password"
# Checks that need more than one account, or that judge behaviour the contract chooses on
# purpose, are left out: see README "make fuzz".
EXCLUDED_CHECKS = ["object_level_authorization"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def recreate(url: str) -> None:
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await conn.close()


async def drop(url: str) -> None:
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        await conn.close()


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the app exited before answering")
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the app did not answer /health/ready in time")


def sign_in(base: str) -> str:
    """A user with a post, and its access token for the fuzzer."""
    with httpx.Client(base_url=base, timeout=10) as client:
        body = {"username": "fuzzer", "email": "fuzzer@example.com", "password": PASSWORD}
        client.post("/api/v1/users", json=body).raise_for_status()
        answer = client.post(
            "/api/v1/auth/token", data={"username": "fuzzer", "password": PASSWORD}
        )
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        post = {"title": "Seed", "content": "A post to fuzz.", "published": True, "tags": ["seed"]}
        client.post("/api/v1/posts", json=post, headers=headers).raise_for_status()
    return token


def main() -> int:
    db = os.environ.get("FUZZ_DB", "sqlite").lower()
    max_time = int(os.environ.get("FUZZ_MAX_TIME", "120"))
    port = int(os.environ.get("FUZZ_PORT") or free_port())
    workers = os.environ.get("FUZZ_WORKERS", "2")
    workdir = Path(tempfile.mkdtemp(prefix="blog_api_fuzz_"))
    if db == "sqlite":
        database_url = f"sqlite:///{workdir / 'fuzz.db'}"
    elif db in {"postgresql", "postgres", "pg"}:
        database_url = os.environ.get(
            "FUZZ_PG_URL", "postgresql://postgres@127.0.0.1:5432/blog_api_fuzz"
        )
        asyncio.run(recreate(database_url))
    else:
        raise SystemExit(f"FUZZ_DB must be sqlite or postgresql, not {db!r}")

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))},
        "ENVIRONMENT": "test",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "BCRYPT_ROUNDS": "4",
        "ALLOWED_HOSTS": "127.0.0.1",
        # One address sends everything: the per-address and per-account limits would only
        # measure the fuzzer's pace (their 429 stays documented, and tested in the suite).
        "LOGIN_ATTEMPTS_PER_ADDRESS": "0",
        "LOGIN_FAILURES_PER_ACCOUNT": "0",
        "REGISTRATIONS_PER_ADDRESS": "0",
        "PASSWORD_CHANGES_PER_ACCOUNT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([BIN / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True)
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "app.log").open("wb")
    app = subprocess.Popen(
        [
            BIN / "uvicorn",
            "blog_api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--no-server-header",
            "--log-level",
            "warning",
        ],
        cwd=workdir,
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(base, app)
        sign_in(base)
        command = [
            str(BIN / "schemathesis"), "--config-file", str(HERE / "schemathesis.toml"),
            "run", f"{base}/openapi.json",
            "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-time", str(max_time),
            "--workers", workers,
            "--request-timeout", "20",
            "--suppress-health-check", "all",
            "--generation-database", "none",
        ]  # fmt: skip
        report_dir = os.environ.get("FUZZ_REPORT_DIR")
        if report_dir:
            command += ["--report", "junit", "--report-dir", report_dir]
        print(f"fuzzing {base} ({db}) for {max_time} s", flush=True)
        hooks_env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "fuzz.hooks",
            "FUZZ_BASE_URL": base,
            "PYTHONPATH": str(ROOT),
        }
        result = subprocess.run(command, cwd=workdir, env=hooks_env, check=False)
    finally:
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()
        if db != "sqlite":
            asyncio.run(drop(database_url))
    server_errors = [
        line
        for line in (workdir / "app.log").read_text(errors="replace").splitlines()
        if "Unhandled error" in line
    ]
    if server_errors:
        print("\n".join(["the app logged unhandled errors:", *server_errors[:20]]))
    return result.returncode or (1 if server_errors else 0)


if __name__ == "__main__":
    raise SystemExit(main())
