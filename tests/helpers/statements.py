"""What an engine does, as its events say: the SQL statements it sends (what the `statements`
fixture, tests/conftest.py, records for a whole test, and `recorded_statements` for a part of
one), and any other event through `listening`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def listening(engine: AsyncEngine, name: str, listener: Callable[..., None]) -> Iterator[None]:
    """`listener` on the engine's event `name` (SQLAlchemy's), for as long as the block runs."""
    event.listen(engine.sync_engine, name, listener)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, name, listener)


@contextmanager
def recorded_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run meanwhile, transaction control left out."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith(TRANSACTION_CONTROL):
            seen.append(statement)

    with listening(engine, "before_cursor_execute", record):
        yield seen
