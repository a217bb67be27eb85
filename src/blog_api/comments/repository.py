"""Queries on comments. Their count per post is kept by database triggers (models.CounterDelta).

Writes load entities; a page of comments is read as plain rows (the comment's columns and its
author's public ones) in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, delete, select

from blog_api.comments.sorting import CommentSort
from blog_api.comments.views import CommentView
from blog_api.counters.repository import counter_value
from blog_api.kit.listing import INT, TIME, AnySelect, Listing, Page, Window, asc
from blog_api.kit.repository import BaseRepository
from blog_api.models import Comment, Counter, Post, User
from blog_api.posts.views import PostAccess
from blog_api.users.views import PUBLIC_COLUMNS, read_user, user_view

COMMENTS = Listing(
    "comments", {CommentSort.OLDEST: (asc(Comment.created_at, TIME), asc(Comment.id, INT))}
)

# A CommentView's columns, in its order: the comment's, then its author's (UserView's).
_COMMENT_COLUMNS = (
    Comment.id,
    Comment.post_id,
    Comment.body,
    Comment.created_at,
    Comment.updated_at,
)
_COLUMNS = (
    *_COMMENT_COLUMNS,
    *(column.label(f"author_{column.key}") for column in PUBLIC_COLUMNS),
)
_AUTHOR = slice(len(_COMMENT_COLUMNS), len(_COLUMNS))


def read_comment(row: Sequence[Any]) -> CommentView:
    """A row of `_COLUMNS` (and maybe more) as a CommentView."""
    id_, post_id, body, created_at, updated_at = row[: _AUTHOR.start]
    return CommentView(id_, post_id, body, created_at, updated_at, read_user(row[_AUTHOR]))


def written_comment(comment: Comment, author: User) -> CommentView:
    """A comment just written by `author` (the caller's snapshot)."""
    return CommentView(
        comment.id,
        comment.post_id,
        comment.body,
        comment.created_at,
        comment.updated_at,
        user_view(author),
    )


_POST_ID = bindparam("post_id", type_=Integer)
_PAGE_TOTAL = counter_value(Counter.POST_COMMENTS, _POST_ID)


def _page_select() -> AnySelect:
    """A page's rows: the post's comments with their authors, and the post's visibility."""
    return (
        select(
            *_COLUMNS, Post.published.label("post_published"), Post.author_id.label("post_author")
        )
        .join(User, User.id == Comment.author_id)
        .join(Post, Post.id == Comment.post_id)
        .where(Comment.post_id == _POST_ID)
    )


class CommentRepository(BaseRepository[Comment]):
    model = Comment

    async def create(self, post_id: int, author_id: int, body: str) -> Comment:
        """A new comment. `MissingReference` when the post or the author was deleted
        meanwhile."""
        return await self.add(Comment(post_id=post_id, author_id=author_id, body=body))

    async def get_in_post(
        self, post_id: int, comment_id: int, *, for_update: bool = False
    ) -> Comment | None:
        """The comment, only if it belongs to `post_id`; with `for_update`, locked and read
        afresh (racing edits and deletes queue; a deleted comment is None)."""
        stmt = select(Comment).where(Comment.id == comment_id, Comment.post_id == post_id)
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def page(
        self, post_id: int, window: Window
    ) -> tuple[Page[CommentView], PostAccess | None]:
        """A page of the post's comments, oldest first, in one statement
        (the total, in page mode, read from the post's comments counter inside it). Each row
        also carries what decides who may see its post, handed back with the page: None when
        the page is empty, for the caller to read it then."""
        return await COMMENTS.fetch_under(
            self.session,
            _page_select,
            CommentSort.OLDEST,
            window,
            parent=("post_id", post_id),
            total=_PAGE_TOTAL,
            read=read_comment,
            about_parent=PostAccess.of_row,
        )

    async def all_in_post(self, post_id: int) -> list[CommentView]:
        """Every comment of the post, oldest first (one statement)."""
        stmt = self._select(post_id).order_by(*COMMENTS.order_by(CommentSort.OLDEST))
        return [read_comment(row) for row in await self.session.execute(stmt)]

    async def get_item(self, post_id: int, comment_id: int) -> CommentView | None:
        """One comment, only if it belongs to `post_id`."""
        row = (
            await self.session.execute(self._select(post_id).where(Comment.id == comment_id))
        ).one_or_none()
        return None if row is None else read_comment(row)

    async def delete_by_id(self, comment_id: int) -> None:
        await self.session.execute(delete(Comment).where(Comment.id == comment_id))

    @staticmethod
    def _select(post_id: int) -> AnySelect:
        """A post's comments with their authors, in a CommentView's columns."""
        return (
            select(*_COLUMNS)
            .join(User, User.id == Comment.author_id)
            .where(Comment.post_id == post_id)
        )
