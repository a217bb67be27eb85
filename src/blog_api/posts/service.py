"""Posts: who may see and change them (by the roles' policy, blog_api/users/policy.py), slugs,
tags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blog_api.kit.db import utcnow
from blog_api.kit.errors import (
    CALLER_GONE,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServiceBusyError,
)
from blog_api.kit.listing import Page, Window, empty_page
from blog_api.kit.markdown import render_off_loop
from blog_api.kit.repository import MissingReference, UniqueViolation
from blog_api.kit.rules import is_tag_name, is_username
from blog_api.models import Post, PostRevision, PostStatus, User
from blog_api.posts.repository import POSTS, PostFilter, PostRepository
from blog_api.posts.schemas import PRESENTATION_FIELDS, PostCreate, PostUpdate
from blog_api.posts.slugs import first_choice, is_slug, slugify, with_random_suffix
from blog_api.posts.sorting import PostSort
from blog_api.posts.views import PostAccess, PostSummaryView, PostView, RevisionView
from blog_api.posts.visibility import may_see_post
from blog_api.tags.service import TagService
from blog_api.users.policy import (
    Action,
    may,
    may_delete_post,
    may_edit_post,
    may_publish,
    may_unpublish,
)
from blog_api.users.service import viewer_id

SLUG_ATTEMPTS = 8
_PUBLISHED_AT = ("body", "published_at")
_STATUS = ("body", "status")


@dataclass(frozen=True, slots=True)
class Publication:
    """Where a write leaves a post: its status and published_at, and whether the write
    publishes or schedules it (going live now or later, rescheduled, backdated)."""

    status: PostStatus
    published_at: datetime | None
    publishes_or_schedules: bool

    def columns(self) -> dict[str, Any]:
        # `published` follows the status: the counter triggers count that column.
        return {
            "status": self.status.value,
            "published": self.status is PostStatus.PUBLISHED,
            "published_at": self.published_at,
        }


def decide_publication(
    status: PostStatus,
    published_at: datetime | None,
    asked: PostStatus | None,
    asked_at: datetime | None,
    now: datetime,
) -> Publication:
    """The rules of status and published_at: a post now at `status` and `published_at`, asked
    for `asked` (None: unchanged) and `asked_at` (None: not sent).

    - scheduled: published_at in the future, sent or kept from a post scheduled already;
    - published: a published_at sent must be past (it backdates the post); else it is kept
      from an earlier publication, or now;
    - draft: published_at cannot be sent; a post once published keeps its published_at, a
      scheduled one (never published) drops its instant.
    """
    target = asked or PostStatus(status)
    if target is PostStatus.SCHEDULED:
        when = asked_at
        if when is None and status == PostStatus.SCHEDULED:
            when = published_at
        if when is None:
            raise InvalidInputError(
                "A scheduled post needs published_at: when it goes live", loc=_PUBLISHED_AT
            )
        if asked_at is not None and asked_at <= now:
            raise InvalidInputError(
                "published_at must lie in the future to schedule a post (status published "
                "with a past published_at backdates it)",
                loc=_PUBLISHED_AT,
            )
    elif target is PostStatus.PUBLISHED:
        if asked_at is not None:
            if asked_at > now:
                raise InvalidInputError(
                    "published_at lies in the future: say status scheduled to publish the "
                    "post then",
                    loc=_PUBLISHED_AT,
                )
            when = asked_at
        elif status == PostStatus.SCHEDULED or published_at is None:
            when = now
        else:
            when = published_at  # first published then; kept from then on
    else:
        if asked_at is not None:
            raise InvalidInputError(
                "published_at is for status scheduled or published, not draft", loc=_STATUS
            )
        when = None if status == PostStatus.SCHEDULED else published_at
    changes_time = when != published_at
    publishes_or_schedules = target is not PostStatus.DRAFT and (target != status or changes_time)
    return Publication(target, when, publishes_or_schedules)


# What `update` takes from the decision (or handles itself) rather than as sent.
_PUBLICATION = frozenset({"tags", "published", "status", "published_at", "slug", "updated_at"})
# What a revision keeps: a change of any of them keeps the version it replaces.
REVISED = ("title", "content", "description", "status")


class PostService:
    def __init__(self, posts: PostRepository, tags: TagService) -> None:
        self.posts = posts
        self.tags = tags

    async def create(self, author: User, data: PostCreate) -> PostView:
        now = utcnow()
        publication = self._publication(
            author, None, data.requested_status(), data.published_at, now
        )
        # Before any statement: no lock is held while it renders.
        rendered = await render_off_loop(data.content)
        post = Post(
            author=await self.posts.attach_author(author),
            title=data.title,
            content=data.content,
            content_html=rendered.html,
            excerpt=rendered.excerpt,
            reading_time=rendered.reading_time,
            **data.model_dump(include=set(PRESENTATION_FIELDS)),
            description=data.description,
            **publication.columns(),
            created_at=now,
            updated_at=now,
            tags=await self.tags.get_or_create(data.tags),
        )
        base = slugify(data.title)
        # A slug sent is tried once; a derived one skips those any post holds or held.
        for attempt in range(SLUG_ATTEMPTS if data.slug is None else 1):
            if data.slug is not None:
                slug = data.slug
            else:
                slug = first_choice(base) if attempt == 0 else with_random_suffix(base)
            try:
                await self.posts.add_with_slug(post, slug)
            except UniqueViolation:
                if data.slug is not None:
                    raise _slug_taken(slug) from None
                continue
            except MissingReference:
                raise AuthenticationError(CALLER_GONE) from None
            return await self._read(author, post.id)
        # Only a flood of posts with one title can get here: a 503 the client may retry.
        raise ServiceBusyError("No free slug for this title right now; try again")

    async def access(self, post_id: int) -> PostAccess | None:
        """Whether the post is published, and its author (what decides who sees it and what
        hangs off it); None when there is no such post."""
        return await self.posts.get_access(post_id)

    async def get(self, viewer: User | None, post_id: int) -> PostView:
        """The post as `viewer` sees it (their `favorited` flag included), or 404."""
        return self._visible(
            viewer, await self.posts.read(viewer_id(viewer), post_id=post_id), post_id
        )

    async def get_by_slug(self, viewer: User | None, slug: str) -> PostView:
        """The post that has or had `slug` (its `slug` then says which is current), or 404."""
        post = await self.posts.read(viewer_id(viewer), slug=slug) if is_slug(slug) else None
        return self._visible(viewer, post, repr(slug[:100]))

    async def update(self, actor: User, post_id: int, data: PostUpdate) -> PostView:
        # Rendered once, when written (reads serve what is stored), and before the post is
        # locked: no row lock, and on SQLite no write lock, is held while it renders.
        rendered = None if data.content is None else await render_off_loop(data.content)
        post = await self._editable(actor, post_id)
        if data.updated_at is not None and data.updated_at != post.updated_at:
            # Compared under the row lock: a change committed meanwhile is seen.
            raise ConflictError(
                f"Post {post_id} has changed since it was read (updated_at "
                f"{post.updated_at.isoformat()}); read it again"
            )
        sent = data.model_dump(exclude_unset=True)
        now = utcnow()
        publication = self._publication(
            actor, post, data.requested_status(), sent.get("published_at"), now
        )
        changes: dict[str, Any] = {k: v for k, v in sent.items() if k not in _PUBLICATION}
        if rendered is not None and changes["content"] != post.content:
            changes.update(
                content_html=rendered.html,
                excerpt=rendered.excerpt,
                reading_time=rendered.reading_time,
            )
        if "tags" in sent:
            changes["tags"] = await self.tags.get_or_create(sent["tags"])
        if publication.status != post.status or publication.published_at != post.published_at:
            changes.update(publication.columns())
        # The slug stays as it is when the title changes: links to the post keep working.
        if data.slug is not None and data.slug != post.slug:
            await self._move_slug(post_id, data.slug, post.slug)
            changes["slug"] = data.slug
        if not changes:
            return await self._read(actor, post_id)
        await self._write(actor, post, changes, now)
        return await self._read(actor, post_id)

    async def _move_slug(self, post_id: int, slug: str, current: str) -> None:
        """Let the post take `slug`: one it had before is its own to take back; one no post
        ever had joins its history (the constraint settles a race for it); one another post
        holds or held is a 409."""
        owner = await self.posts.slug_owner(slug)
        if owner is None:
            try:
                await self.posts.keep_slug(post_id, slug, current)
            except UniqueViolation:
                raise _slug_taken(slug) from None
        elif owner != post_id:
            raise _slug_taken(slug)

    async def _write(self, actor: User, post: Post, changes: dict[str, Any], now: Any) -> None:
        """Apply `changes` to the locked `post`, keeping the version they replace as a
        revision (in this transaction) when they change what a revision keeps."""
        if any(name in changes and changes[name] != getattr(post, name) for name in REVISED):
            revision = PostRevision(
                post_id=post.id,
                title=post.title,
                description=post.description,
                content=post.content,
                status=post.status,
                author_id=actor.id,
                created_at=now,
            )
            try:
                await self.posts.add_revision(revision)
            except MissingReference:
                raise AuthenticationError(CALLER_GONE) from None
        changes["updated_at"] = now  # also when only the tags change
        try:
            await self.posts.update(post, changes)
        except UniqueViolation:
            # Only a simultaneous edit setting the same new tags can collide here.
            raise ConflictError(
                f"Post {post.id} was changed by another request at the same time; try again"
            ) from None

    async def revisions(self, viewer: User, post_id: int, window: Window) -> Page[RevisionView]:
        """The post's revisions, newest first, for those who may edit it: 404 when `viewer`
        may not see the post, 403 when they may see but not edit it."""
        page, access = await self.posts.revisions_page(post_id, window)
        # A page with revisions says who may see the post; an empty one leaves it to ask.
        access = access or await self.posts.get_access(post_id)
        if access is None or not may_see_post(
            viewer, published=access.published, author_id=access.author_id
        ):
            raise NotFoundError(f"Post {post_id} not found")
        if not may_edit_post(viewer, published=access.published, author_id=access.author_id):
            raise PermissionDeniedError("Only those who may edit this post may see its revisions")
        return page

    async def restore(self, actor: User, post_id: int, revision_id: int) -> PostView:
        """Bring back a revision's title, description and content (re-rendered): a change
        like any other, which keeps the version it replaces. Editors restore anyone's posts,
        authors their own; a revision of another post is a 404."""
        revision = await self.posts.get_revision(post_id, revision_id)
        # Rendered before the post is locked, as updates are.
        rendered = None if revision is None else await render_off_loop(revision.content)
        post = await self.posts.get_full(post_id, for_update=True)
        if post is None or not may_see_post(
            actor, published=post.published, author_id=post.author_id
        ):
            raise NotFoundError(f"Post {post_id} not found")
        if not may(actor, Action.RESTORE, post.author_id):
            raise PermissionDeniedError(_refusal(actor, post.author_id, "restore"))
        if revision is None or rendered is None:
            raise NotFoundError(f"Revision {revision_id} of post {post_id} not found")
        changes: dict[str, Any] = {
            "title": revision.title,
            "description": revision.description,
            "content": revision.content,
        }
        if revision.content != post.content:
            changes.update(
                content_html=rendered.html,
                excerpt=rendered.excerpt,
                reading_time=rendered.reading_time,
            )
        await self._write(actor, post, changes, utcnow())
        return await self._read(actor, post_id)

    def _publication(
        self,
        actor: User,
        post: Post | None,
        asked: PostStatus | None,
        asked_at: datetime | None,
        now: datetime,
    ) -> Publication:
        """The one place that decides what a create (`post` None) or an edit does to the
        post's status and published_at, and whether `actor`'s role allows it: publishing,
        scheduling (publishing later), backdating take `may_publish`; taking a published
        post back to a draft or a schedule takes `may_unpublish`."""
        if post is None:
            author_id = actor.id
            publication = decide_publication(PostStatus.DRAFT, None, asked, asked_at, now)
        else:
            author_id = post.author_id
            publication = decide_publication(
                PostStatus(post.status), post.published_at, asked, asked_at, now
            )
        if publication.publishes_or_schedules and not may_publish(actor, author_id):
            scheduling = publication.status is PostStatus.SCHEDULED
            what = "schedule" if scheduling else "publish"
            raise PermissionDeniedError(_refusal(actor, author_id, what))
        unpublishing = (
            post is not None
            and post.status == PostStatus.PUBLISHED
            and publication.status is not PostStatus.PUBLISHED
        )
        if unpublishing and not may_unpublish(actor, author_id):
            raise PermissionDeniedError(_refusal(actor, author_id, "unpublish"))
        return publication

    async def publish_due(self) -> list[int]:
        """Scheduled posts whose instant has come go live (a background job: see main.py):
        the ids of those this call published."""
        return await self.posts.publish_due(utcnow())

    async def delete(self, actor: User, post_id: int) -> None:
        await self._editable(actor, post_id, deleting=True)
        await self.posts.delete_by_id(post_id)

    async def list_published(
        self,
        viewer: User | None,
        window: Window,
        *,
        author: str | None = None,
        tag: str | None = None,
        q: str | None = None,
        favorited_by: str | None = None,
        featured: bool | None = None,
        sort: PostSort = PostSort.PUBLISHED_DESC,
    ) -> Page[PostSummaryView]:
        """Published posts, filtered (AND) and sorted, as `viewer` sees them."""
        if tag is not None:
            tag = tag.strip().lower()
        filters = PostFilter(
            author_username=author,
            tag=tag,
            q=q or None,
            favorited_by=favorited_by,
            featured=featured,
        )
        if (
            (tag is not None and not is_tag_name(tag))
            or any(name is not None and not is_username(name) for name in (author, favorited_by))
            or (q is not None and "\x00" in q)
        ):
            # No post can match (and PostgreSQL would refuse a NUL): an empty page.
            return empty_page(window, POSTS, sort, filters.scope())
        return await self.posts.list_summaries(filters, sort, window, viewer_id=viewer_id(viewer))

    async def list_feed(self, reader: User, window: Window) -> Page[PostSummaryView]:
        """Published posts by the users `reader` follows, most recently published first."""
        filters = PostFilter(followed_by=reader.id)
        return await self.posts.list_summaries(
            filters, PostSort.PUBLISHED_DESC, window, viewer_id=reader.id
        )

    async def list_own(self, owner: User, window: Window) -> Page[PostSummaryView]:
        """The owner's posts, drafts included, newest first."""
        filters = PostFilter(published_only=False, author_id=owner.id)
        return await self.posts.list_summaries(
            filters, PostSort.CREATED_DESC, window, viewer_id=owner.id
        )

    async def _read(self, viewer: User, post_id: int) -> PostView:
        """A post just written, as its writer sees it."""
        row = await self.posts.read(viewer.id, post_id=post_id)
        assert row is not None  # written by this transaction
        return row

    def _visible(self, viewer: User | None, post: PostView | None, what: object) -> PostView:
        """The post, or 404: a draft does not exist for anyone but its author, editors and
        admins."""
        if post is None or not may_see_post(
            viewer, published=post.published, author_id=post.author.id
        ):
            raise NotFoundError(f"Post {what} not found")
        return post

    async def _editable(self, actor: User, post_id: int, *, deleting: bool = False) -> Post:
        """The post, locked, if `actor` may change it as it is now (or delete it): racing
        edits and deletes queue, and a deleted post is a 404."""
        post = await self.posts.get_full(post_id, for_update=True)
        if post is None or not may_see_post(
            actor, published=post.published, author_id=post.author_id
        ):
            raise NotFoundError(f"Post {post_id} not found")
        allowed = may_delete_post if deleting else may_edit_post
        if not allowed(actor, published=post.published, author_id=post.author_id):
            what = "delete" if deleting else "change"
            raise PermissionDeniedError(_refusal(actor, post.author_id, what))
        return post


def _slug_taken(slug: str) -> ConflictError:
    return ConflictError(f"The slug {slug!r} is taken: another post has or had it")


def _refusal(actor: User, author_id: int, what: str) -> str:
    """Why `actor` may not `what` the post: their role (on their own post), or that the post
    is someone else's."""
    if actor.id != author_id:
        return f"Only its author or an editor may {what} this post"
    if what in {"publish", "schedule", "unpublish", "restore"}:
        return f"Your role ({actor.role}) may not {what} posts"
    return f"Your role ({actor.role}) may not {what} a post once it is published"
