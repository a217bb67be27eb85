"""Posts: who may see and change them, slugs, tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blog_api.errors import ConflictError, NotFoundError, PermissionDeniedError
from blog_api.models import Post, User
from blog_api.repositories import (
    PostFilter,
    PostRepository,
    PostSort,
    TagRepository,
    UniqueViolation,
)
from blog_api.schemas.posts import PostCreate, PostUpdate
from blog_api.services.slugs import slugify, with_random_suffix

EXCERPT_LENGTH = 200
SLUG_ATTEMPTS = 8


class PostService:
    def __init__(self, posts: PostRepository, tags: TagRepository) -> None:
        self.posts = posts
        self.tags = tags

    async def create(self, author: User, data: PostCreate) -> Post:
        post = Post(
            author=author,
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
            return post
        raise RuntimeError(f"No free slug for {base!r} after {SLUG_ATTEMPTS} attempts")

    async def get(self, viewer: User | None, post_id: int) -> Post:
        return self._visible(viewer, await self.posts.get_full(post_id), f"Post {post_id}")

    async def get_by_slug(self, viewer: User | None, slug: str) -> Post:
        return self._visible(viewer, await self.posts.get_full_by_slug(slug), f"Post {slug!r}")

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
        *,
        author: str | None,
        tag: str | None,
        q: str | None,
        sort: PostSort,
        page: int,
        per_page: int,
    ) -> tuple[Sequence[Post], int]:
        filters = PostFilter(published_only=True, author_username=author, tag=tag, q=q)
        return await self.posts.list_summaries(filters, sort, page=page, per_page=per_page)

    async def list_own(
        self, owner: User, *, sort: PostSort, page: int, per_page: int
    ) -> tuple[Sequence[Post], int]:
        """The owner's posts, drafts included."""
        filters = PostFilter(published_only=False, author_id=owner.id)
        return await self.posts.list_summaries(filters, sort, page=page, per_page=per_page)

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
        post = await self.get(actor, post_id)
        if not (actor.is_superuser or actor.id == post.author_id):
            raise PermissionDeniedError("Only the author or a superuser may change this post")
        return post
