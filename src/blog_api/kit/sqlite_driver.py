"""SQLAlchemy's aiosqlite adapter, with one trip to the driver's thread per statement.

aiosqlite runs every sqlite3 call on a worker thread of its own and hands the result back to
the event loop. SQLAlchemy's adapter makes four such trips for each statement (open a cursor,
execute, fetch the rows, close the cursor), and one more for each COMMIT or ROLLBACK, also
when there is no transaction to end. Each trip wakes the worker thread and then the event
loop, which costs far more than a one-row read from SQLite itself. Here a statement is one
trip (open, execute, fetch all, close, in one function on the worker thread), and ROLLBACK and
COMMIT make none when the connection is not in a transaction (sqlite3 itself does nothing
then).

It is the same dialect (`sqlite+aiosqlite`), handed this adapter as its DBAPI module through
`create_engine(module=...)`; nothing else changes. Server-side cursors (`stream()`) keep
SQLAlchemy's own cursor, which fetches in chunks.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import immutabledict


def _run(
    connection: sqlite3.Connection, many: bool, operation: str, parameters: Any
) -> tuple[sqlite3.Cursor, list[Any] | None]:
    """On the driver's thread: the whole life of one cursor (its rows, for a SELECT)."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        return cursor, (cursor.fetchall() if cursor.description else None)
    finally:
        cursor.close()  # its description, rowcount and lastrowid stay readable


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """Holds the closed sqlite3 cursor of its statement (for description, rowcount and
    lastrowid) and the rows it fetched."""

    __slots__ = ()

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # Unlike the base class, makes no cursor here: execute() makes it on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = immutabledict()
        self._rows = collections.deque()

    @property
    def description(self) -> Any:
        return None if self._cursor is None else self._cursor.description

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._on_thread(False, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._on_thread(True, operation, seq_of_parameters)

    async def _on_thread(self, many: bool, operation: Any, parameters: Any) -> Any:
        driver = self._connection
        async with self._adapt_connection._execute_mutex:
            self._cursor, rows = await driver._execute(
                _run, driver._conn, many, operation, parameters
            )
        if rows is not None:
            self._rows = collections.deque(rows)
        return self._cursor

    async def _async_soft_close(self) -> None:
        pass  # the cursor was closed on the thread, right after its statement

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls: type[AsyncAdapt_aiosqlite_cursor] = OneTripCursor

    def _in_transaction(self) -> bool:
        driver = self._connection._connection  # None once closed
        return driver is not None and driver.in_transaction

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    """The DBAPI module for `create_async_engine("sqlite+aiosqlite://...", module=dbapi())`."""
    return OneTripDBAPI(aiosqlite, sqlite3)
