"""Queries on comments. Their count per post is kept by database triggers (models.CounterDelta).

Writes load entities; a page of comments is read as plain rows (the comment's columns and its
author's public ones) in one statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Row, bindparam, delete, select

from blog_api.comments.sorting import CommentSort
from blog_api.counters.repository import counter_value
from blog_api.kit.listing import INT, TIME, AnySelect, Listing, Page, Window, asc
from blog_api.kit.repository import BaseRepository
from blog_api.models import Comment, Counter, Post, User
from blog_api.posts.views import PostAccess

COMMENTS = Listing(
    "comments", {CommentSort.OLDEST: (asc(Comment.created_at, TIME), asc(Comment.id, INT))}
)

# What a Comment answer shows: the comment, and its author as UserPublic.
_COLUMNS = (
    Comment.id,
    Comment.post_id,
    Comment.body,
    Comment.created_at,
    Comment.updated_at,
    User.id.label("author_id"),
    User.username.label("author_username"),
    User.bio.label("author_bio"),
    User.image.label("author_image"),
    User.created_at.label("author_created_at"),
)


def comment_item(row: Row[Any]) -> dict[str, Any]:
    """One row of `_COLUMNS` in the shape of a Comment answer."""
    return {
        "id": row.id,
        "post_id": row.post_id,
        "body": row.body,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "author": {
            "id": row.author_id,
            "username": row.author_username,
            "bio": row.author_bio,
            "image": row.author_image,
            "created_at": row.author_created_at,
        },
    }


def written_item(comment: Comment, author: User) -> dict[str, Any]:
    """A comment just written by `author` (the caller's snapshot), as a Comment answer."""
    return {
        "id": comment.id,
        "post_id": comment.post_id,
        "body": comment.body,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "author": author,
    }


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
    ) -> tuple[Page[dict[str, Any]], PostAccess | None]:
        """A page of the post's comments, oldest first, as Comment answers, in one statement
        (the total, in page mode, read from the post's comments counter inside it). Each row
        also carries what decides who may see its post, handed back with the page: None when
        the page is empty, for the caller to read it then."""
        page = await COMMENTS.fetch(
            self.session,
            _page_select,
            CommentSort.OLDEST,
            window,
            total=_PAGE_TOTAL,
            params={"post_id": post_id},
            shape="post",
            scope=post_id,
        )
        first = page.items[0] if page.items else None
        access = None if first is None else PostAccess(first.post_published, first.post_author)
        return page.map(comment_item), access

    async def all_in_post(self, post_id: int) -> list[dict[str, Any]]:
        """Every comment of the post, oldest first, as Comment answers (one statement)."""
        stmt = self._select(post_id).order_by(*COMMENTS.order_by(CommentSort.OLDEST))
        return [comment_item(row) for row in await self.session.execute(stmt)]

    async def get_item(self, post_id: int, comment_id: int) -> dict[str, Any] | None:
        """One comment as a Comment answer, only if it belongs to `post_id`."""
        row = (
            await self.session.execute(self._select(post_id).where(Comment.id == comment_id))
        ).one_or_none()
        return None if row is None else comment_item(row)

    async def delete_by_id(self, comment_id: int) -> None:
        await self.session.execute(delete(Comment).where(Comment.id == comment_id))

    @staticmethod
    def _select(post_id: int) -> AnySelect:
        """A post's comments with their authors, in the columns of a Comment answer."""
        return (
            select(*_COLUMNS)
            .join(User, User.id == Comment.author_id)
            .where(Comment.post_id == post_id)
        )
