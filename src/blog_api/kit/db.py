"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event, make_url
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import PoolResetState
from sqlalchemy.types import TypeDecorator

from blog_api.config import DatabaseSettings
from blog_api.kit import sqlite_driver
from blog_api.kit.errors import DatabaseUnavailableError, ServiceBusyError

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Execution option that tells SQLite's BEGIN what a unit of work will do (an `Access`).
ACCESS = "blog_api_access"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as naive
    UTC and handed back aware. Naive input is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A SQL function on SQLite connections: Python's str.lower, for case-insensitive search.
UNICODE_LOWER = "unicode_lower"


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _install_sqlite_listeners(engine: AsyncEngine, busy_timeout: float) -> None:
    """Make SQLite behave: foreign keys, WAL, a busy timeout, and real transactions.

    The sqlite3 driver's own transaction handling (inherited by aiosqlite) emits BEGIN late and
    breaks SAVEPOINTs; we switch it off and emit BEGIN ourselves, as SQLAlchemy's SQLite dialect
    documentation describes. Write transactions start with `BEGIN IMMEDIATE` so that concurrent
    writers queue on the lock (up to the busy timeout) instead of failing part-way through.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # SQLite's own lower() and LIKE fold ASCII letters only; search needs all of Unicode.
        dbapi_connection.create_function(UNICODE_LOWER, 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # A read-only file not yet in WAL mode (a restored backup, say) cannot be switched;
        # it still serves reads, and writes get a 503 (see DatabaseUnavailableError).
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # Rolls back only a connection still in a transaction. The pool's own reset
        # (pool_reset_on_return, off for SQLite below) rolls back every connection given
        # back, also after a COMMIT or a read that never began one: on SQLite a hop to the
        # driver's thread for nothing.
        if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        access = conn.get_execution_options().get(ACCESS)
        if access is Access.READ:
            return  # autocommit: each statement reads a snapshot of its own (see Access.READ)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if access is Access.WRITE else "BEGIN")


def _in_wal_mode(path: str) -> bool:
    """Whether the SQLite file at `path` says it is in WAL mode (its header's read and write
    versions are 2); False for a file that cannot be read or is not a database."""
    try:
        with open(path, "rb") as file:
            header = file.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"


def _sqlite_read_only_url(url: str) -> URL | None:
    """The URL that lets SQLite read `url`'s database in a folder this process may not write,
    or None when SQLite reads it as it is.

    A reader of a WAL database needs its `-shm` file, made in the database's folder by the
    first connection: in a folder the server may not write (a read-only mount, a backup
    restored read-only), SQLite refuses even a SELECT. When no connection has the database
    open (no `-shm`, no `-wal` holding changes), the file alone holds every committed change,
    and it is opened `immutable`: read-only, without locks or `-shm`. That tells SQLite the
    file does not change while open (a writer would need a folder it may write, and the
    server must be restarted after one replaced it). Reads serve; writes fail as on any
    read-only file (a 503). With a `-shm` there, a writer may be at work: SQLite reads
    through it on its own, and the URL stays. So do URLs that are SQLite URIs already.
    """
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or "uri" in parsed.query or "mode" in parsed.query:
        return None
    path = os.path.abspath(database)
    effective = os.access in os.supports_effective_ids
    if os.access(os.path.dirname(path), os.W_OK, effective_ids=effective):
        return None
    if os.path.exists(f"{path}-shm") or _has_content(f"{path}-wal") or not _in_wal_mode(path):
        return None
    return parsed.set(database=Path(path).as_uri(), query={"uri": "true", "immutable": "1"})


def _has_content(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    url: str | URL = settings.database_url
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_recycle": settings.db_pool_recycle,
        "pool_pre_ping": settings.db_pool_pre_ping,
    }
    if settings.database_url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")
        read_only = None if in_memory else _sqlite_read_only_url(settings.database_url)
        if read_only is not None:
            logger.warning(
                "%s is in a folder this process cannot write: opened read-only and immutable "
                "(reads serve, writes answer 503; the file must not change while served)",
                read_only.database,
            )
            url = read_only
        engine = create_async_engine(
            url,
            echo=settings.db_echo,
            module=sqlite_driver.dbapi(),  # one trip to aiosqlite's thread per statement
            connect_args={"timeout": settings.sqlite_busy_timeout},
            pool_reset_on_return=None,  # the "reset" listener above does it when needed
            **({} if in_memory else pool),  # one shared connection (a static pool) in memory
        )
        _install_sqlite_listeners(engine, settings.sqlite_busy_timeout)
        return engine
    return create_async_engine(url, echo=settings.db_echo, **pool)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class Access(Enum):
    """What a unit of work will do, so each database can run it the cheapest safe way."""

    READ = "read"
    """Reads only, in autocommit on both databases: each statement reads a snapshot of its
    own (what PostgreSQL's READ COMMITTED gives a transaction anyway), and the unit ends
    without a COMMIT. BEGIN and COMMIT would buy nothing: on PostgreSQL they are two round
    trips; on SQLite, four hops to the driver's thread (BEGIN's cursor, execute and close, and
    the COMMIT), nearly half the hops of a one-row read."""
    WRITE = "write"
    """Writes, in a transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE)."""


def _execution_options(engine: AsyncEngine, access: Access) -> dict[str, Any]:
    if engine.dialect.name == "sqlite":
        return {ACCESS: access}  # the BEGIN listener above reads it
    return {"isolation_level": "AUTOCOMMIT"} if access is Access.READ else {}


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession], access: Access
) -> AsyncIterator[AsyncSession]:
    """One unit of work: a write commits when the block succeeds and rolls back when it
    raises; a read (autocommit) has nothing to commit and just gives its connection back."""
    engine: AsyncEngine = factory.kw["bind"]
    async with factory(execution_options=_execution_options(engine, access)) as session:
        try:
            yield session
            if access is Access.WRITE:
                await session.commit()
            elif session.new or session.dirty or session.deleted:
                # Nothing commits a read unit: a change made in one would vanish unsaid.
                raise RuntimeError("A read unit of work was given changes to store")
        except BaseException as exc:
            try:
                await session.rollback()
            except Exception as failed:
                # A ROLLBACK the database could not take (the connection dropped, the disk
                # failed) leaves nothing written all the same: PostgreSQL ends the
                # transaction of a connection that is gone, and SQLite never counts one that
                # did not commit. The pool has the connection back already (it drops a dead
                # one, and rolls back or drops any other), so the session's close does
                # nothing more. The unit's own error is the answer: a 403/404/409 stays one,
                # a database fault is a 503.
                if unavailable(exc) is None and unavailable(failed) is None:
                    raise
                logger.warning("ROLLBACK failed after %s: %s", type(exc).__name__, failed)
            if isinstance(exc, DBAPIError) and _is_transient(exc):
                raise ServiceBusyError(
                    "The database was busy with a conflicting change; try again"
                ) from exc
            fault = unavailable(exc)
            if fault is not None:
                raise fault from exc
            raise


# PostgreSQL: deadlock detected, serialization failure, lock not available.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def _is_transient(exc: DBAPIError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(orig)  # SQLite, past its busy timeout


# PostgreSQL: connection exceptions (08), operator intervention (57P: shutdown, cannot
# connect now), insufficient resources (53: too many connections, disk full), and a
# read-only transaction (25006: a hot standby, or default_transaction_read_only).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53", "25006")
# SQLite: a file it may not write (read-only file, directory or mount), cannot open, or a
# full or failing disk.
_SQLITE_UNAVAILABLE = (
    "readonly database",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
)


def unavailable(exc: BaseException) -> DatabaseUnavailableError | None:
    """`exc` as a DatabaseUnavailableError when it says the database cannot be used right now
    (rather than that the request was wrong), else None."""
    if isinstance(exc, DatabaseUnavailableError):
        return exc
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        # The connection died under us (terminated backend, restart, network); the pool
        # has dropped it, so the same request on a fresh connection can succeed.
        return DatabaseUnavailableError("The database connection was lost", connection_lost=True)
    if isinstance(exc, SQLAlchemyTimeoutError):
        return DatabaseUnavailableError("Every database connection is busy", retry_after=2)
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
        return DatabaseUnavailableError("The database is unavailable", retry_after=5)
    if isinstance(exc, InterfaceError):  # asyncpg: closed, or mid-operation, connection
        return DatabaseUnavailableError("The database connection was lost", connection_lost=True)
    if isinstance(orig, sqlite3.Error) and any(m in str(orig).lower() for m in _SQLITE_UNAVAILABLE):
        return DatabaseUnavailableError("The database cannot be written to", retry_after=30)
    if isinstance(orig, OSError | TimeoutError):  # connection refused, reset, timed out
        return DatabaseUnavailableError("The database is unreachable", retry_after=5)
    return None


async def ping(engine: AsyncEngine, timeout: float = 3.0) -> bool:
    """True when the database answers a trivial query within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout), engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except Exception:
        return False
    return True
