"""Queries on posts. Every read says what it loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    UnaryExpression,
    bindparam,
    delete,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute, defer, joinedload, selectinload
from sqlalchemy.sql.functions import Function

from blog_api.db import UNICODE_LOWER
from blog_api.models import Post, PostStats, Tag, User, post_tags
from blog_api.repositories.base import BaseRepository


class PostSort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"
    TITLE = "title"
    TITLE_DESC = "-title"


# Each order ends with the id, in the same direction, so that rows sharing a timestamp or a
# title still come in one stable order and paging never repeats or skips one.
_ORDER: dict[PostSort, tuple[UnaryExpression[Any], ...]] = {
    PostSort.NEWEST: (Post.created_at.desc(), Post.id.desc()),
    PostSort.OLDEST: (Post.created_at.asc(), Post.id.asc()),
    PostSort.TITLE: (Post.title.asc(), Post.id.asc()),
    PostSort.TITLE_DESC: (Post.title.desc(), Post.id.desc()),
}


def _after(sort: PostSort, value: Any, row_id: int) -> ColumnElement[bool]:
    """Rows strictly after (value, id) in `sort` order: one row-value comparison, which both
    databases answer with a range scan of the matching index."""
    column = Post.title if sort in {PostSort.TITLE, PostSort.TITLE_DESC} else Post.created_at
    key = tuple_(column, Post.id)
    bound = tuple_(bindparam(None, value, type_=column.type), bindparam(None, row_id))
    return key < bound if sort in {PostSort.NEWEST, PostSort.TITLE_DESC} else key > bound


def sort_key(sort: PostSort, post: Post) -> tuple[Any, int]:
    """The (value, id) that `sort` orders `post` by, for a cursor."""
    if sort in {PostSort.TITLE, PostSort.TITLE_DESC}:
        return post.title, post.id
    return post.created_at, post.id


# The author as the API shows it (UserPublic): no email, no password hash.
_AUTHOR = joinedload(Post.author).load_only(
    User.id, User.username, User.bio, User.created_at, raiseload=True
)
# One whole post: author joined, tags by one more query. (Joining the tags too would save
# that query on PostgreSQL, but SQLite plans the nested outer join by materialising every
# post_tags x tags row first: 34 ms a request at 10k posts, growing with the table.)
FULL = (_AUTHOR, selectinload(Post.tags))
# A list item: the same for the whole page (one tags query whatever per_page is; a
# collection must not be joined under LIMIT), without the content a summary never reads.
SUMMARY = (defer(Post.content, raiseload=True), *FULL)


@dataclass(frozen=True, slots=True)
class PostFilter:
    published_only: bool = True
    author_id: int | None = None
    author_username: str | None = None
    tag: str | None = None
    q: str | None = None

    def conditions(self, dialect: str) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.published_only:
            where.append(Post.published.is_(True))
        if self.author_id is not None:
            where.append(Post.author_id == self.author_id)
        if self.author_username is not None:
            author = select(User.id).where(
                func.lower(User.username) == self.author_username.lower()
            )
            where.append(Post.author_id.in_(author))
        if self.tag is not None:
            tagged = (
                select(post_tags.c.post_id)
                .join(Tag, Tag.id == post_tags.c.tag_id)
                .where(Tag.name == self.tag)
            )
            where.append(Post.id.in_(tagged))
        if self.q:
            where.append(or_(*(_contains_ignoring_case(c, self.q, dialect) for c in _SEARCHED)))
        return where


_SEARCHED = (Post.title, Post.content)


def _contains_ignoring_case(
    column: InstrumentedAttribute[str], text: str, dialect: str
) -> ColumnElement[bool]:
    """`text` anywhere in `column`, ignoring case in all of Unicode. PostgreSQL: ILIKE, which
    the trigram indexes answer. SQLite: its LIKE folds ASCII only, so both sides go through
    the unicode_lower function every SQLite connection has (see db.py)."""
    if dialect == "sqlite":
        lowered = Function(UNICODE_LOWER, column, type_=column.type)
        return lowered.contains(text.lower(), autoescape=True)
    return column.icontains(text, autoescape=True)


PUBLIC = PostFilter()


class PostRepository(BaseRepository[Post]):
    model = Post

    async def get_full(self, post_id: int, *, for_update: bool = False) -> Post | None:
        """A whole post; with `for_update`, locked and read afresh (see `get_for_update`)."""
        stmt = select(Post).where(Post.id == post_id)
        if for_update:
            # OF posts: the tags are outer-joined, and their nullable side cannot be locked.
            stmt = stmt.with_for_update(of=Post).execution_options(populate_existing=True)
        return await self._one(stmt)

    async def attach_author(self, author: User) -> User:
        """The caller's user snapshot, as an object of this session (no query)."""
        return await self.session.merge(author, load=False)

    async def get_full_by_slug(self, slug: str) -> Post | None:
        return await self._one(select(Post).where(Post.slug == slug))

    async def _one(self, stmt: Select[Post]) -> Post | None:
        return (await self.session.scalars(stmt.options(*FULL))).one_or_none()

    async def list_summaries(
        self, filters: PostFilter, sort: PostSort, *, page: int, per_page: int
    ) -> tuple[Sequence[Post], int]:
        """A page of posts without their content, and the exact total (count, page, tags).

        The unfiltered public list reads its total from the trigger-kept counter instead of
        counting, so its first page costs the same however many posts there are.
        """
        stmt = self._filtered(filters).order_by(*_ORDER[sort])
        if filters == PUBLIC:
            total = await self.session.scalar(
                select(PostStats.published_posts).where(PostStats.id == 1)
            )
            if total is not None:
                return await self.paginate(
                    stmt, page=page, per_page=per_page, total=total, options=SUMMARY
                )
        return await self.paginate(stmt, page=page, per_page=per_page, options=SUMMARY)

    async def list_summaries_after(
        self,
        filters: PostFilter,
        sort: PostSort,
        after: tuple[Any, int] | None,
        *,
        limit: int,
    ) -> Sequence[Post]:
        """Up to `limit` posts after the (value, id) a cursor holds: no count, no OFFSET, so a
        deep position costs what the first page costs."""
        stmt = self._filtered(filters).order_by(*_ORDER[sort]).limit(limit).options(*SUMMARY)
        if after is not None:
            stmt = stmt.where(_after(sort, *after))
        return (await self.session.scalars(stmt)).all()

    async def delete_by_id(self, post_id: int) -> None:
        """Delete a post; the database removes its tag links (ON DELETE CASCADE)."""
        await self.session.execute(delete(Post).where(Post.id == post_id))

    def _filtered(self, filters: PostFilter) -> Select[Post]:
        dialect = self.session.get_bind().dialect.name
        return select(Post).where(*filters.conditions(dialect))
