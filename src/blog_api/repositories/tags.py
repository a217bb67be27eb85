"""Queries on tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects import postgresql, sqlite

from blog_api.models import Post, Tag, post_tags
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

    async def popular(self, *, page: int, per_page: int) -> tuple[Sequence[Row[Any]], int]:
        """Tags on at least one published post, with that count: most used first, then by name."""
        count = func.count(post_tags.c.post_id).label("post_count")
        stmt = (
            select(Tag.name, count)
            .join(post_tags, post_tags.c.tag_id == Tag.id)
            .join(Post, Post.id == post_tags.c.post_id)
            .where(Post.published.is_(True))
            .group_by(Tag.id, Tag.name)
            .order_by(count.desc(), Tag.name)
        )
        return await self.paginate_rows(stmt, page=page, per_page=per_page)
