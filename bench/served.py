"""blog-api served in a subprocess, for the tools that drive it from outside (`make soak`,
`make fuzz`): a scratch database, the environment such a run needs, the migrations, Uvicorn."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

import asyncpg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _on_server(database_url: str, *statements: str) -> None:
    """Run `statements` ({name} being the database of `database_url`) on its server."""
    target = make_url(database_url)
    server = target.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        for statement in statements:
            await conn.execute(statement.format(name=target.database))
    finally:
        await conn.close()


async def recreate_database(database_url: str) -> None:
    await _on_server(
        database_url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', 'CREATE DATABASE "{name}"'
    )


async def drop_database(database_url: str) -> None:
    await _on_server(database_url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_environment(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment less its database settings, with `database_url`, a fresh
    SECRET_KEY, 127.0.0.1 as the allowed host, the app's source on PYTHONPATH and the rate
    limits off (one address sends everything: the limits would only measure the tool's pace;
    their 429s are tested in the suite), then `settings` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1",
        LOGIN_ATTEMPTS_PER_ADDRESS="0",
        LOGIN_FAILURES_PER_ACCOUNT="0",
        REGISTRATIONS_PER_ADDRESS="0",
        PASSWORD_CHANGES_PER_ACCOUNT="0",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT / "src"),
    )
    env.update(settings)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([BIN / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True)


def start(port: int, env: dict[str, str], cwd: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """One Uvicorn worker serving blog_api.main:app on 127.0.0.1:`port`, its output in `log`."""
    return subprocess.Popen(
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
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(app: subprocess.Popen[bytes]) -> None:
    app.terminate()
    try:
        app.wait(timeout=30)
    except subprocess.TimeoutExpired:
        app.kill()
