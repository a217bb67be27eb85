"""The benchmark's knobs, read once from the environment (all optional)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".work"
VENV_BIN = PROJECT_DIR / ".venv" / "bin"

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HOST = "127.0.0.1"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True, slots=True)
class BenchSettings:
    db: str  # "postgresql" or "sqlite"
    posts: int
    users: int
    pg_server: str
    pg_database: str
    duration: int  # seconds measured per run (wrk takes whole seconds)
    warmup: int  # seconds of unmeasured load before each run (0: none)
    rounds: int  # app, reference, app, reference, ... this many times each
    connections: int
    app_port: int
    ref_port: int
    scenarios: frozenset[str] | None  # None: all of them
    profile: bool  # record a py-spy flame graph of the app on the cursor list
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(36))  # 48 characters
    bcrypt_rounds: int = 12
    password: str = "bench-password-1"

    @property
    def is_sqlite(self) -> bool:
        return self.db == "sqlite"

    @property
    def sqlite_path(self) -> Path:
        return WORK_DIR / "bench.db"

    @property
    def database_url(self) -> str:
        """The URL handed to the app and to Alembic (mapped to the async drivers by the app)."""
        if self.is_sqlite:
            return f"sqlite:///{self.sqlite_path}"
        return f"{self.pg_server}/{self.pg_database}"

    @property
    def pg_admin_dsn(self) -> str:
        return f"{self.pg_server}/postgres"

    def wants(self, scenario: str) -> bool:
        return self.scenarios is None or scenario in self.scenarios

    @classmethod
    def from_env(cls) -> BenchSettings:
        db = os.environ.get("BENCH_DB", "postgresql").lower()
        if db in {"pg", "postgres"}:
            db = "postgresql"
        if db not in {"postgresql", "sqlite"}:
            raise SystemExit(f"BENCH_DB must be postgresql or sqlite, not {db!r}")
        pg_server = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
        host = urlsplit(pg_server).hostname or ""
        if host not in LOOPBACK_HOSTS:
            raise SystemExit(f"BENCH_PG_SERVER must be on this machine (127.0.0.1), not {host!r}")
        only = os.environ.get("BENCH_SCENARIOS", "").strip()
        return cls(
            db=db,
            posts=_int("BENCH_POSTS", 100_000),
            users=_int("BENCH_USERS", 1_000),
            pg_server=pg_server.rstrip("/"),
            pg_database=os.environ.get("BENCH_PG_DATABASE", "blog_api_bench"),
            duration=max(1, _int("BENCH_DURATION", 5)),
            warmup=_int("BENCH_WARMUP", 1),
            rounds=_int("BENCH_ROUNDS", 3),
            connections=_int("BENCH_CONNECTIONS", 32),
            app_port=_int("BENCH_APP_PORT", 18081),
            ref_port=_int("BENCH_REF_PORT", 18082),
            scenarios=frozenset(s.strip() for s in only.split(",") if s.strip()) or None,
            profile=os.environ.get("BENCH_PROFILE", "") not in {"", "0"},
        )
