"""Queries on tags."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from blog_api.counters.repository import counter_totals
from blog_api.kit.listing import INT, TEXT, AnySelect, Listing, Page, Window, asc, desc
from blog_api.kit.repository import BaseRepository
from blog_api.kit.views import row_reader
from blog_api.models import Counter, Tag
from blog_api.tags.sorting import TagSort
from blog_api.tags.views import TagCountView


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
        stmt = self.insert(Tag).values([{"name": n} for n in ordered]).on_conflict_do_nothing()
        await self.session.execute(stmt)
        found = await self.session.scalars(select(Tag).where(Tag.name.in_(ordered)))
        return sorted(found, key=lambda tag: tag.name)

    async def popular(self, window: Window) -> Page[TagCountView]:
        """Tags on at least one published post, with that count: most used first, then by
        name. The counts come from the counters; no link is read."""
        stmt, listing, read = _in_use(self.session.get_bind().dialect.name)
        page = await listing.fetch(self.session, stmt, TagSort.POPULAR, window, shape="popular")
        return page.map(read)

    async def names_in_use(self) -> list[str]:
        """The name of every tag on at least one published post (uncapped), in `popular`'s
        order."""
        ordered = _names_in_use(self.session.get_bind().dialect.name)
        return list((await self.rows(ordered)).scalars().all())


@lru_cache
def _names_in_use(dialect: str) -> AnySelect:
    """`_in_use`'s names alone, in its list's order: built once per database."""
    stmt, listing, _ = _in_use(dialect)
    return stmt.with_only_columns(Tag.name).order_by(*listing.order_by(TagSort.POPULAR))


@lru_cache
def _in_use(
    dialect: str,
) -> tuple[AnySelect, Listing[TagSort], Callable[[Sequence[Any]], TagCountView]]:
    """Tags on a published post with their counts, their list (most used first, then by
    name) and how to read its rows, built once per database. Names compare bytewise on every
    database (PostgreSQL's default collation follows the server's locale, which orders '-' and
    '_' unlike SQLite)."""
    counts = counter_totals(Counter.TAG_POSTS)
    columns = (Tag.name, counts.c.value.label("post_count"))
    stmt = select(*columns).join(counts, counts.c.key == Tag.id).where(counts.c.value > 0)
    name = Tag.name.collate("C") if dialect == "postgresql" else Tag.name
    listing = Listing(
        "tags",
        {TagSort.POPULAR: (desc(counts.c.value, INT), asc(name, TEXT), asc(Tag.id, INT))},
    )
    return stmt, listing, row_reader(TagCountView, columns)
