"""Units of work: reads run in autocommit and give their connection back without a reset;
writes run in a transaction; a connection given back inside a transaction is rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiosqlite
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from blog_api.kit.db import Access, transaction
from blog_api.models import Tag, User
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.statements import listening


@pytest.fixture
def transaction_control(engine: AsyncEngine) -> Iterator[list[str]]:
    """BEGIN statements and COMMITs the app sends while the test runs."""
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if sql.startswith("BEGIN"):
            seen.append(sql)

    def commit(_conn: Any) -> None:
        seen.append("COMMIT")

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync, "commit", commit)
    yield seen
    event.remove(sync, "before_cursor_execute", statement)
    event.remove(sync, "commit", commit)


async def test_reads_send_no_begin_and_no_commit(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    transaction_control: list[str],
) -> None:
    user = await make_user("reader")
    post = await make_post(user["headers"], title="Read me", tags=["units"])
    transaction_control.clear()
    for path in (f"/api/v1/posts/{post['id']}", "/api/v1/posts?page=1", "/api/v1/tags"):
        response = await client.get(path)
        assert response.status_code == 200, path
    assert transaction_control == []


async def test_writes_run_in_a_transaction(
    client: AsyncClient, make_user: UserFactory, transaction_control: list[str], is_sqlite: bool
) -> None:
    user = await make_user("writer")
    transaction_control.clear()
    response = await client.post(
        "/api/v1/posts", headers=user["headers"], json={"title": "T", "content": "c"}
    )
    assert response.status_code == 201
    assert "COMMIT" in transaction_control
    if is_sqlite:  # the write lock is taken up front
        assert "BEGIN IMMEDIATE" in transaction_control


async def test_a_read_unit_leaves_no_transaction_open(app: FastAPI) -> None:
    async with transaction(app.state.session_factory, Access.READ) as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
    in_transaction = getattr(driver, "in_transaction", None)
    if in_transaction is not None:  # SQLite's driver says; asyncpg's has no such flag
        assert not in_transaction


def _give_back(sync_engine: Engine, *, begin: bool) -> tuple[Any, int]:
    """Check a connection out of the pool, maybe leave a transaction open on it, give it
    back; the driver connection and how many times the pool rolled it back."""
    raw = sync_engine.raw_connection()
    driver: Any = raw.driver_connection
    rollbacks = 0
    original = driver.rollback

    async def counting_rollback() -> None:
        nonlocal rollbacks
        rollbacks += 1
        await original()

    driver.rollback = counting_rollback
    try:
        cursor = raw.cursor()
        if begin:
            cursor.execute("BEGIN")
        cursor.execute("SELECT 1")
        cursor.close()
        assert driver.in_transaction is begin
        raw.close()  # back to the pool, which resets it
    finally:
        del driver.rollback
    return driver, rollbacks


async def test_the_pool_rolls_back_only_connections_left_in_a_transaction(
    engine: AsyncEngine, is_sqlite: bool
) -> None:
    if not is_sqlite:
        pytest.skip("PostgreSQL keeps SQLAlchemy's own reset (free outside a transaction)")
    driver, rollbacks = await greenlet_spawn(_give_back, engine.sync_engine, begin=True)
    assert rollbacks == 1
    assert not driver.in_transaction
    driver, rollbacks = await greenlet_spawn(_give_back, engine.sync_engine, begin=False)
    assert rollbacks == 0
    assert not driver.in_transaction


async def test_a_read_unit_refuses_changes_rather_than_dropping_them(
    app: FastAPI, client: AsyncClient
) -> None:
    """A read unit never commits, so a change given to one would be lost without a word:
    it is an error instead, and nothing is stored."""
    with pytest.raises(RuntimeError, match="read unit"):
        async with transaction(app.state.session_factory, Access.READ) as session:
            session.add(Tag(name="never-stored"))
    async with transaction(app.state.session_factory, Access.READ) as session:
        assert await session.scalar(select(func.count()).select_from(Tag)) == 0


@pytest.fixture
def driver_trips(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call handed to aiosqlite's worker thread while the test runs, and every
    statement the app sends (as "SQL")."""
    import aiosqlite

    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def statement(*_: Any) -> None:
        seen.append("SQL")

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    with listening(engine, "before_cursor_execute", statement):
        yield seen


async def test_sqlite_makes_one_trip_to_its_thread_per_statement(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    driver_trips: list[str],
    is_sqlite: bool,
) -> None:
    """aiosqlite runs each call on a thread of its own; a trip there and back costs more than
    a one-row read. A statement is one trip (cursor, execute, fetch and close together), and a
    read unit, which never begins a transaction, ends without a ROLLBACK trip."""
    if not is_sqlite:
        pytest.skip("asyncpg has no driver thread")
    user = await make_user("tripper")
    post = await make_post(user["headers"], title="Trips", tags=["units"])
    for path in (f"/api/v1/posts/{post['id']}", "/api/v1/posts?per_page=5", "/api/v1/tags"):
        driver_trips.clear()
        response = await client.get(path)
        assert response.status_code == 200, path
        statements = driver_trips.count("SQL")
        assert statements >= 1
        assert len(driver_trips) == 2 * statements, (path, driver_trips)

    driver_trips.clear()
    response = await client.patch(
        f"/api/v1/posts/{post['id']}", headers=user["headers"], json={"title": "Trips, edited"}
    )
    assert response.status_code == 200
    statements = driver_trips.count("SQL")
    # each statement (BEGIN IMMEDIATE among them) once, and the COMMIT
    assert len(driver_trips) - statements == statements + 1, driver_trips
    assert driver_trips[-1] == "commit"


async def test_a_unit_cancelled_mid_statement_leaves_no_transaction_behind(
    app: FastAPI, make_user: UserFactory
) -> None:
    """A request cancelled while its statement runs (a client gone, a timeout) must not give
    its connection back inside a transaction: on SQLite that would keep the write lock, and
    every later write would wait and fail. The next write unit commits at once."""
    import asyncio

    from sqlalchemy import text

    await make_user("canceller")
    factory = app.state.session_factory
    slow = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000000) "
        "SELECT count(*) FROM n"
    )

    async def write_then_stall() -> None:
        async with transaction(factory, Access.WRITE) as session:
            await session.execute(update(User).values(bio="half-written"))
            await session.execute(slow)

    for _ in range(3):
        task = asyncio.create_task(write_then_stall())
        await asyncio.sleep(0.2)  # inside the slow statement
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(10):
            async with transaction(factory, Access.WRITE) as session:
                await session.execute(update(User).values(bio="second"))
        async with transaction(factory, Access.READ) as session:
            bios = set((await session.scalars(select(User.bio))).all())
        assert bios == {"second"}  # the cancelled unit's change is gone, the next one is in


def test_the_sqlite_adapter_still_fits_the_internals_it_was_written_for() -> None:
    """sqlite_driver.py leans on private parts of SQLAlchemy's aiosqlite adapter and of
    aiosqlite (pinned in pyproject.toml to the versions it was written for). When an upgrade
    moves them, this fails with what moved, before anything subtler breaks."""
    import inspect

    import aiosqlite
    from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection

    cursor_slots = set(AsyncAdapt_dbapi_cursor.__slots__)
    for name in ("_adapt_connection", "_connection", "_cursor", "_soft_closed_memoized", "_rows"):
        assert name in cursor_slots, f"SQLAlchemy's async cursor has no {name} any more"
    for name in ("_execute_async", "_executemany_async", "_async_soft_close"):
        assert inspect.iscoroutinefunction(getattr(AsyncAdapt_dbapi_cursor, name)), name
    assert "_execute_mutex" in AsyncAdapt_aiosqlite_connection.__slots__ or any(
        "_execute_mutex" in getattr(cls, "__slots__", ())
        for cls in AsyncAdapt_aiosqlite_connection.__mro__
    ), "SQLAlchemy's async connection has no _execute_mutex any more"
    assert AsyncAdapt_aiosqlite_connection._cursor_cls is not None
    assert inspect.iscoroutinefunction(aiosqlite.Connection._execute), (
        "aiosqlite.Connection._execute (run a function on the driver's thread) moved"
    )
    assert list(inspect.signature(aiosqlite.Connection._execute).parameters) == [
        "self",
        "fn",
        "args",
        "kwargs",
    ]
    assert isinstance(inspect.getattr_static(aiosqlite.Connection, "_conn"), property), (
        "aiosqlite.Connection keeps its sqlite3 connection elsewhere than _conn"
    )


async def test_the_sqlite_adapter_runs_a_statement_on_the_driver_thread_in_one_trip(
    engine: AsyncEngine, is_sqlite: bool
) -> None:
    """The adapter's path through those internals works end to end: a read answers its rows,
    a write its rowcount, through sqlite_driver.OneTripCursor."""
    if not is_sqlite:
        pytest.skip("the adapter is SQLite's")
    from blog_api.kit.sqlite_driver import OneTripCursor

    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, aiosqlite.Connection)
        assert raw.dbapi_connection is not None
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)
        result = await conn.exec_driver_sql("SELECT 1, 'two' UNION ALL SELECT 3, 'four'")
        assert [tuple(row) for row in result.all()] == [(1, "two"), (3, "four")]
