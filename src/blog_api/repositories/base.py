"""What every repository shares: get by id, a paged list with an exact count, add, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from blog_api.db import Base

ModelT = TypeVar("ModelT", bound=Base)


class UniqueViolation(Exception):  # noqa: N818 (named after the SQL error it stands for)
    """An insert or update broke a unique constraint (another row holds the value)."""


class BaseRepository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id_: int, *options: ORMOption) -> ModelT | None:
        return await self.session.get(self.model, id_, options=options)

    async def paginate(
        self, stmt: Select[Any], *, page: int, per_page: int
    ) -> tuple[Sequence[Any], int]:
        """One page of `stmt` (which must already be ordered) and the exact total.

        The count runs over the same filters without the ORDER BY. A page past the end skips
        the row query, so an absurd `page` never reaches the database as an OFFSET.
        """
        count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = (await self.session.execute(count_stmt)).scalar_one()
        offset = (page - 1) * per_page
        if offset >= total:
            return [], total
        rows = (await self.session.scalars(stmt.limit(per_page).offset(offset))).all()
        return rows, total

    async def add(self, obj: ModelT) -> ModelT:
        """Insert `obj` inside a SAVEPOINT, so a unique violation leaves the transaction usable."""
        try:
            async with self.session.begin_nested():
                self.session.add(obj)
        except IntegrityError as exc:
            raise UniqueViolation(str(exc.orig)) from exc
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
            raise UniqueViolation(str(exc.orig)) from exc
        return obj

    async def delete(self, obj: ModelT) -> None:
        await self.session.delete(obj)
        await self.session.flush()
