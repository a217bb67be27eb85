"""What every repository shares: get by id, add and update inside a SAVEPOINT, delete."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import Executable, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from blog_api.kit.db import Base
from blog_api.kit.listing import AnySelect

ModelT = TypeVar("ModelT", bound=Base)


class UniqueViolation(Exception):  # noqa: N818 (named after the SQL error it stands for)
    """An insert or update broke a unique constraint (another row holds the value)."""


class MissingReference(Exception):  # noqa: N818
    """An insert or update referred to a row that no longer exists (a foreign key)."""


class BaseRepository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rows(self, stmt: AnySelect, params: dict[str, Any] | None = None) -> Result[Any]:
        """The rows of a SELECT of plain columns, run as a Core statement on the session's
        connection (same transaction): none of the ORM's per-row work, as no entity is built."""
        conn = await self.session.connection()
        return await conn.execute(stmt, params or {})

    async def get(self, id_: int | str, *options: ORMOption) -> ModelT | None:
        return await self.session.get(self.model, id_, options=options)

    async def get_for_update(self, id_: int | str) -> ModelT | None:
        """The row, locked until the transaction ends (PostgreSQL; SQLite's write transactions
        hold the whole database already), and read afresh: racing changes then queue, and the
        one that comes second sees what the first did (a deleted row is None)."""
        return await self.session.get(self.model, id_, with_for_update=True, populate_existing=True)

    async def add(self, obj: ModelT) -> ModelT:
        """Insert `obj` inside a SAVEPOINT, so a unique violation leaves the transaction usable."""
        try:
            async with self.session.begin_nested():
                self.session.add(obj)
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        return obj

    async def update(self, obj: ModelT, values: dict[str, Any]) -> ModelT:
        """Assign `values` and flush them inside a SAVEPOINT (see `add`).

        The assignments happen inside the savepoint on purpose: `begin_nested()` flushes what is
        already pending before it starts, outside the savepoint's protection.
        """
        try:
            async with self.session.begin_nested():
                for name, value in values.items():
                    setattr(obj, name, value)
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc
        return obj

    def insert(self, table: Any) -> Any:
        """This database's own INSERT for `table`, which has `on_conflict_do_nothing()`."""
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)

    async def insert_ignoring_duplicates(self, values: dict[str, Any]) -> bool:
        """Insert one row unless one with the same key exists (`INSERT ... ON CONFLICT DO
        NOTHING`): racing inserts of one row all succeed and leave one. Inside a SAVEPOINT,
        like `add`; a reference to a row deleted meanwhile is a `MissingReference`. True when
        this call inserted the row."""
        stmt = self.insert(self.model).values(values).on_conflict_do_nothing()
        result = await self.execute_guarded(stmt)
        return bool(getattr(result, "rowcount", 0))

    async def execute_guarded(self, stmt: Executable) -> Result[Any]:
        """Run a write inside a SAVEPOINT, so that a broken constraint leaves the transaction
        usable and comes out as `UniqueViolation` or `MissingReference`."""
        try:
            async with self.session.begin_nested():
                return await self.session.execute(stmt)
        except IntegrityError as exc:
            raise _integrity_error(exc) from exc

    async def delete(self, obj: ModelT) -> None:
        await self.session.delete(obj)
        await self.session.flush()


def _integrity_error(exc: IntegrityError) -> Exception:
    """What broke, in terms a service can act on: a duplicate value (PostgreSQL's SQLSTATE
    23505, SQLite's UNIQUE constraint) or a reference to a row deleted meanwhile (23503,
    FOREIGN KEY constraint); any other integrity error as it is."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if state == "23505" or "UNIQUE constraint failed" in str(orig):
        return UniqueViolation(str(orig))
    if state == "23503" or "FOREIGN KEY constraint failed" in str(orig):
        return MissingReference(str(orig))
    return exc
