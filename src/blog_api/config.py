"""Settings, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from blog_api.roles import Role

MIN_SECRET_LENGTH = 32


def normalize_database_url(url: str) -> str:
    """Map the URLs deployers are handed to the async drivers blog-api uses.

    `postgres://` and `postgresql://` (which SQLAlchemy 2.1 reads as psycopg) become
    `postgresql+asyncpg://`; `sqlite://` becomes `sqlite+aiosqlite://`.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("DATABASE_URL must look like postgresql://... or sqlite:///...")
    base = scheme.split("+", 1)[0].lower()
    if base in {"postgres", "postgresql"}:
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError(f"Unsupported database in DATABASE_URL: {scheme!r} (use PostgreSQL or SQLite)")


class DatabaseSettings(BaseSettings):
    """What reaching the database takes, and nothing else: all that migrations read, so
    `alembic upgrade` runs in production without the app's secrets."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./blog.db"
    # Connection pool, per worker process (both databases). Connections past the pool size
    # ("overflow") are opened for a burst and closed after it, a connect each time: under a
    # steady load above the pool size that churn cost a third of one post's throughput
    # (bench/RESULTS.md), so by default the pool keeps every connection it may open.
    db_pool_size: int = Field(20, ge=1)
    db_max_overflow: int = Field(0, ge=0)
    db_pool_timeout: float = Field(30.0, gt=0)
    db_pool_recycle: int = Field(1800, ge=-1)
    # Test each pooled connection with a round trip before use. Off by default: it costs a
    # round trip a request (bench/RESULTS.md), and a connection the database dropped is
    # replaced on its first failure anyway (and every DB_POOL_RECYCLE seconds). Turn it on
    # behind proxies that drop idle connections silently.
    db_pool_pre_ping: bool = False
    db_echo: bool = False
    # How long a SQLite writer waits for the lock before giving up, in seconds.
    sqlite_busy_timeout: float = Field(30.0, gt=0)
    # Every this many seconds each worker folds the counters' pending changes (see
    # repositories/counters.py); 0 turns it off (counts stay exact, reads slowly cost more).
    counter_fold_seconds: float = Field(1.0, ge=0)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)


class Settings(DatabaseSettings):
    """Everything the app reads: the database settings plus the rest."""

    _secret_generated: bool = PrivateAttr(False)

    environment: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr | None = None
    access_token_expire_minutes: int = Field(15, ge=1, le=7 * 24 * 60)
    refresh_token_expire_days: int = Field(30, ge=1, le=365)
    bcrypt_rounds: int = Field(12, ge=4, le=31)
    # The role a registration gives (`create-superuser` makes an admin); see blog_api/roles.py.
    default_role: Role = Role.AUTHOR
    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:5173"]
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    log_level: str = "info"
    # Tune Python's garbage collector for serving when the app starts (blog_api/main.py):
    # about a third of a request's CPU on the bench (bench/RESULTS.md). Off keeps Python's.
    gc_tuning: bool = True

    # Background work (kit/background.py): publishing scheduled posts and folding counters,
    # run once across every process that serves one database. False keeps it out of web
    # processes, for deployments that run `python -m blog_api worker` for it.
    background_in_web: bool = True
    # Every this many seconds scheduled posts whose instant has come go live (one process
    # does it per turn); a post goes live at most this long (plus the turn) after its instant.
    publish_scheduled_seconds: float = Field(1.0, gt=0, le=4)

    # Rate limits on what costs a bcrypt (0 turns one off); see blog_api/kit/ratelimit.py.
    login_failures_per_account: int = Field(10, ge=0, description="per 15 minutes")
    login_attempts_per_address: int = Field(60, ge=0, description="per minute")
    registrations_per_address: int = Field(20, ge=0, description="per hour")
    password_changes_per_account: int = Field(5, ge=0, description="per hour")
    # Where the counts live: Redis (shared by every worker and machine) when set, e.g.
    # redis://127.0.0.1:6379/0; this process's memory otherwise.
    redis_url: str | None = None
    rate_limit_prefix: str = "blog_api"

    # The largest request body accepted, in bytes (413 past it, before the rest is read).
    max_request_body_bytes: int = Field(1024 * 1024, ge=1024)
    # The largest request line and headers accepted, in bytes, all together (431 past it,
    # before more of them is read); see blog_api/kit/server.py.
    max_request_header_bytes: int = Field(64 * 1024, ge=1024)
    # Seconds a client has to send a request's line and headers, from its connection or the
    # request's first byte (408 past it, and the connection closes); see kit/server.py.
    request_head_timeout: float = Field(20.0, gt=0, le=3600)
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto `serve` believes: IP
    # addresses and CIDR networks, comma-separated (`*`: any peer, only where nothing but the
    # proxy can reach the port). Empty: those headers are ignored, and a client's address is
    # its connection's, so that no client can pick the address its rate limits count.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []
    # Host names this server answers to (Host header); `*` for any, `*.example.com` for any
    # subdomain. Required in production, so that nothing ever reflects a forged Host.
    allowed_hosts: Annotated[list[str], NoDecode] = ["*"]

    @field_validator("cors_origins", "allowed_hosts", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        """Each an IP address or a network, written as Uvicorn reads it (a network's host bits
        cleared: Uvicorn would take `10.0.0.1/8` for a name and never match it)."""
        if "*" in value:
            return ["*"]
        addresses = []
        for entry in value:
            try:
                if "/" in entry:
                    addresses.append(str(ipaddress.ip_network(entry, strict=False)))
                else:
                    addresses.append(str(ipaddress.ip_address(entry)))
            except ValueError:
                raise ValueError(
                    f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or a CIDR network "
                    "(e.g. FORWARDED_ALLOW_IPS=10.0.0.5,192.168.0.0/24)"
                ) from None
        return addresses

    @model_validator(mode="after")
    def _strong_secret_outside_development(self) -> Settings:
        if self.environment in {"development", "test"}:
            missing = self.secret_key is None or not self.secret_key.get_secret_value()
            if missing and self.workers > 1:
                raise ValueError(
                    f"SECRET_KEY must be set to run WORKERS={self.workers} processes: "
                    "without it each one signs tokens with a secret of its own, and refuses "
                    "the others' tokens. Generate one with "
                    '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'
                )
            if missing:
                self._secret_generated = True
                # A secret of this process alone: never one anybody could read in the source.
                # Tokens then last until a restart, and are not shared between workers.
                self.secret_key = SecretStr(secrets.token_urlsafe(48))
            return self
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be set to a random string of at least {MIN_SECRET_LENGTH} "
                f"characters when ENVIRONMENT={self.environment}; generate one with "
                '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'
            )
        return self

    @model_validator(mode="after")
    def _hosts_named_in_production(self) -> Settings:
        if self.environment == "production" and "allowed_hosts" not in self.model_fields_set:
            raise ValueError(
                "ALLOWED_HOSTS must be set when ENVIRONMENT=production: the host names this "
                "server answers to, comma-separated (e.g. ALLOWED_HOSTS=api.example.com)"
            )
        return self

    @property
    def secret_generated(self) -> bool:
        """Whether SECRET_KEY was left unset and this process made one up."""
        return self._secret_generated

    @property
    def jwt_secret(self) -> str:
        assert self.secret_key is not None  # set by the validator above
        return self.secret_key.get_secret_value()


@lru_cache
def get_settings() -> Settings:
    return Settings()
