"""Settings, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./blog.db"
    secret_key: SecretStr | None = None
    access_token_expire_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    bcrypt_rounds: int = Field(12, ge=4, le=31)
    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:5173"]
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    log_level: str = "info"

    # Connection pool (PostgreSQL; SQLite uses SQLAlchemy's defaults for aiosqlite).
    db_pool_size: int = Field(10, ge=1)
    db_max_overflow: int = Field(10, ge=0)
    db_pool_timeout: float = Field(30.0, gt=0)
    db_pool_recycle: int = Field(1800, ge=-1)
    # Test each pooled connection with a round trip before use. Off by default: it costs about
    # 0.3 ms a request, and a connection the database dropped is replaced on its first failure
    # anyway (and every DB_POOL_RECYCLE seconds). Turn it on behind proxies that drop idle
    # connections silently.
    db_pool_pre_ping: bool = False
    db_echo: bool = False
    # How long a SQLite writer waits for the lock before giving up, in seconds.
    sqlite_busy_timeout: float = Field(30.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _strong_secret_outside_development(self) -> Settings:
        if self.environment in {"development", "test"}:
            if self.secret_key is None:
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

    @property
    def jwt_secret(self) -> str:
        assert self.secret_key is not None  # set by the validator above
        return self.secret_key.get_secret_value()


@lru_cache
def get_settings() -> Settings:
    return Settings()
