"""Queries on tags."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from blog_api.models import Tag
from blog_api.repositories.base import BaseRepository


class TagRepository(BaseRepository[Tag]):
    model = Tag

    async def get_or_create(self, names: Sequence[str]) -> list[Tag]:
        """The tags called `names`, creating the missing ones.

        Safe under racing requests: the insert skips names another transaction holds, and the
        select then sees them. Names go in sorted, so two transactions creating the same tags
        lock them in the same order and cannot deadlock.
        """
        if not names:
            return []
        ordered = sorted(set(names))
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(Tag).values([{"name": n} for n in ordered]).on_conflict_do_nothing()
        await self.session.execute(stmt)
        found = await self.session.scalars(select(Tag).where(Tag.name.in_(ordered)))
        return sorted(found, key=lambda tag: tag.name)

    async def popular(self, *, page: int, per_page: int) -> tuple[Sequence[Tag], int]:
        """Tags on at least one published post, with that count: most used first, then by name.

        The counts are kept by triggers; no link is read.
        """
        stmt = (
            select(Tag)
            .where(Tag.published_posts > 0)
            .order_by(Tag.published_posts.desc(), Tag.name)
        )
        return await self.paginate(stmt, page=page, per_page=per_page)
