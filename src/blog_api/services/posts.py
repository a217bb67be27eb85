"""Posts: who may see and change them, slugs, tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from blog_api.db import utcnow
from blog_api.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from blog_api.models import Post, User
from blog_api.repositories import (
    MissingReference,
    PostFilter,
    PostRepository,
    PostSort,
    TagRepository,
    UniqueViolation,
)
from blog_api.repositories.posts import sort_key
from blog_api.schemas.posts import PostCreate, PostUpdate, is_tag_name
from blog_api.schemas.users import is_username
from blog_api.services.cursors import decode_cursor, encode_cursor
from blog_api.services.slugs import is_slug, slugify, with_random_suffix

EXCERPT_LENGTH = 200
SLUG_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class ListWindow:
    """Which rows of a list: a page number, or the cursor a previous page handed out."""

    per_page: int
    page: int | None = None
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PostPage:
    items: Sequence[Post]
    total: int | None  # None in cursor mode
    page: int | None  # None in cursor mode
    next_cursor: str | None


class PostService:
    def __init__(self, posts: PostRepository, tags: TagRepository) -> None:
        self.posts = posts
        self.tags = tags

    async def create(self, author: User, data: PostCreate) -> Post:
        post = Post(
            author=await self.posts.attach_author(author),
            title=data.title,
            content=data.content,
            excerpt=data.content[:EXCERPT_LENGTH],
            published=data.published,
            tags=await self.tags.get_or_create(data.tags),
        )
        base = slugify(data.title)
        for attempt in range(SLUG_ATTEMPTS):
            post.slug = base if attempt == 0 else with_random_suffix(base)
            try:
                await self.posts.add(post)
            except UniqueViolation:
                continue
            except MissingReference:
                raise AuthenticationError("The access token's user no longer exists") from None
            return post
        raise RuntimeError(f"No free slug for {base!r} after {SLUG_ATTEMPTS} attempts")

    async def get(self, viewer: User | None, post_id: int) -> Post:
        return self._visible(viewer, await self.posts.get_full(post_id), f"Post {post_id}")

    async def get_by_slug(self, viewer: User | None, slug: str) -> Post:
        post = await self.posts.get_full_by_slug(slug) if is_slug(slug) else None
        return self._visible(viewer, post, f"Post {slug[:100]!r}")

    async def update(self, actor: User, post_id: int, data: PostUpdate) -> Post:
        post = await self._editable(actor, post_id)
        sent = data.model_dump(exclude_unset=True)
        changes: dict[str, Any] = {k: v for k, v in sent.items() if k != "tags"}
        if "content" in changes:
            changes["excerpt"] = changes["content"][:EXCERPT_LENGTH]
        if "tags" in sent:
            changes["tags"] = await self.tags.get_or_create(sent["tags"])
        # The slug stays as it is when the title changes: links to the post keep working.
        if not changes:
            return post
        changes["updated_at"] = utcnow()  # also when only the tags change
        try:
            return await self.posts.update(post, changes)
        except UniqueViolation:
            # Only a simultaneous edit setting the same new tags can collide here.
            raise ConflictError(
                f"Post {post_id} was changed by another request at the same time; try again"
            ) from None

    async def delete(self, actor: User, post_id: int) -> None:
        await self._editable(actor, post_id)
        await self.posts.delete_by_id(post_id)

    async def list_published(
        self,
        window: ListWindow,
        *,
        author: str | None = None,
        tag: str | None = None,
        q: str | None = None,
        sort: PostSort = PostSort.NEWEST,
    ) -> PostPage:
        if tag is not None:
            tag = tag.strip().lower()
        if (
            (tag is not None and not is_tag_name(tag))
            or (author is not None and not is_username(author))
            or (q is not None and "\x00" in q)
        ):
            # No post can match (and PostgreSQL would refuse a NUL): an empty page.
            if window.cursor is not None:
                decode_cursor(window.cursor, sort)  # a bad cursor is still a 422
                return PostPage([], None, None, None)
            return PostPage([], 0, window.page or 1, None)
        filters = PostFilter(published_only=True, author_username=author, tag=tag, q=q or None)
        return await self._list(filters, sort, window)

    async def list_own(self, owner: User, window: ListWindow) -> PostPage:
        """The owner's posts, drafts included, newest first."""
        filters = PostFilter(published_only=False, author_id=owner.id)
        return await self._list(filters, PostSort.NEWEST, window)

    async def _list(self, filters: PostFilter, sort: PostSort, window: ListWindow) -> PostPage:
        """Page mode (exact total) or cursor mode (keyset, no count); both give a next cursor."""
        per_page = window.per_page
        if window.cursor is None:
            page = window.page or 1
            items, total = await self.posts.list_summaries(
                filters, sort, page=page, per_page=per_page
            )
            more = (page - 1) * per_page + len(items) < total
            return PostPage(items, total, page, self._next(sort, items, more))
        after = decode_cursor(window.cursor, sort)
        rows = await self.posts.list_summaries_after(filters, sort, after, limit=per_page + 1)
        items = rows[:per_page]
        return PostPage(items, None, None, self._next(sort, items, len(rows) > per_page))

    @staticmethod
    def _next(sort: PostSort, items: Sequence[Post], more: bool) -> str | None:
        if not (more and items):
            return None
        return encode_cursor(sort, *sort_key(sort, items[-1]))

    @staticmethod
    def _may_see(viewer: User | None, post: Post) -> bool:
        if post.published:
            return True
        return viewer is not None and (viewer.is_superuser or viewer.id == post.author_id)

    def _visible(self, viewer: User | None, post: Post | None, what: str) -> Post:
        """The post, or 404: a draft does not exist for anyone but its author and superusers."""
        if post is None or not self._may_see(viewer, post):
            raise NotFoundError(f"{what} not found")
        return post

    async def _editable(self, actor: User, post_id: int) -> Post:
        """The post, locked: racing edits and deletes queue, and a deleted post is a 404."""
        post = self._visible(
            actor, await self.posts.get_full(post_id, for_update=True), f"Post {post_id}"
        )
        if not (actor.is_superuser or actor.id == post.author_id):
            raise PermissionDeniedError("Only the author or a superuser may change this post")
        return post
