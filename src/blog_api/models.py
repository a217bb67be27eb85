"""ORM models. Every relationship is `lazy="raise"`: each query says what it loads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from blog_api.kit.background import BackgroundJob as BackgroundJob  # gathered for Alembic
from blog_api.kit.db import Base, UTCDateTime, utcnow
from blog_api.kit.markdown import render
from blog_api.roles import ROLE_MAX_LENGTH, Role

# Primary keys are 32-bit integers on every database.
MAX_ID = 2**31 - 1
# GIN trigram indexes for text search, PostgreSQL only, made by hand in a migration (the
# models' metadata cannot describe them on both databases): alembic check skips them.
SEARCH_INDEXES = {"ix_posts_title_trgm": "title", "ix_posts_content_trgm": "content"}


# Title sorts compare bytes of the casefolded title: "C" collation on PostgreSQL (its default
# collation depends on the server's locale), BINARY (the default) on SQLite.
TITLE_KEY_TYPE = String(800).with_variant(String(800, collation="C"), "postgresql")


def title_sort_key(title: str) -> str:
    """What a title sorts by: casefolded, so that "apple pie" < "Zebra" on every database."""
    return title.casefold()


def _title_key_default(context: Any) -> str:
    """For inserts that bypass the ORM's attribute events (bulk and Core inserts)."""
    return title_sort_key(context.get_current_parameters()["title"])


def _published_at_default(context: Any) -> datetime | None:
    """For inserts that bypass the service (bulk and Core inserts): a post inserted published
    was published when it was created."""
    params = context.get_current_parameters()
    if not params.get("published"):
        return None
    created: datetime | None = params.get("created_at")
    return created or utcnow()


def _content_html_default(context: Any) -> str:
    """For inserts that bypass the service (bulk and Core inserts): the content rendered."""
    return render(context.get_current_parameters()["content"]).html


def _reading_time_default(context: Any) -> int:
    """For inserts that bypass the service: the rendered content's reading time."""
    return render(context.get_current_parameters()["content"]).reading_time


class PostStatus(StrEnum):
    """Where a post stands. `published` (the column) is true exactly for PUBLISHED: the counter
    triggers count that column, so a post that goes live passes through them once."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"  # goes live at its published_at (see posts' publish_due)
    PUBLISHED = "published"


def _status_default(context: Any) -> str:
    """For inserts that bypass the service (bulk and Core inserts): the status that matches
    `published`."""
    published = context.get_current_parameters().get("published")
    return PostStatus.PUBLISHED.value if published else PostStatus.DRAFT.value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class RoleType(TypeDecorator[Role]):
    """A `Role`, stored as its name (a string column, the same on both databases)."""

    impl = String(ROLE_MAX_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Role | str | None, dialect: Dialect) -> str | None:
        return None if value is None else Role(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Role | None:
        return None if value is None else Role(value)


# What the `users.role` CHECK constraint allows (ck_users_role; see the 0008_roles migration).
ROLE_CHECK = "role IN ({})".format(", ".join(f"'{role.value}'" for role in Role))


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lowercased by the service; the unique constraint then makes it case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    # Stored as typed; uniqueness is case-insensitive through the index on lower(username).
    username: Mapped[str] = mapped_column(String(32), nullable=False)
    hashed_password: Mapped[str] = mapped_column(String(255), nullable=False)
    bio: Mapped[str | None] = mapped_column(Text, nullable=True)
    # An avatar URL (http or https).
    image: Mapped[str | None] = mapped_column(String(500), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # What the user may do (blog_api/users/policy.py). Set by the service: registration gives
    # the DEFAULT_ROLE setting, `create-superuser` an admin.
    role: Mapped[Role] = mapped_column(RoleType, nullable=False)

    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role"),
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("ix_users_created_at_id", "created_at", "id"),
        # Never reuse the id of a deleted account (SQLite would, without AUTOINCREMENT).
        {"sqlite_autoincrement": True},
    )

    @property
    def is_superuser(self) -> bool:
        """True exactly for admins: derived from `role`, never stored, so the two cannot
        disagree."""
        return self.role == Role.ADMIN


post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)


class Post(TimestampMixin, Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # What title sorts compare: the title casefolded in Python (set with the title, see
    # `_set_title_key`) and compared bytewise ("C" collation on PostgreSQL, BINARY on SQLite),
    # so both databases order titles the same way, ignoring case.
    title_key: Mapped[str] = mapped_column(
        TITLE_KEY_TYPE, nullable=False, default=_title_key_default
    )
    slug: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    # Markdown, as the author wrote it.
    content: Mapped[str] = mapped_column(Text, nullable=False)
    # The content rendered and sanitised when it was written (kit/markdown.py), and what lists
    # show of its plain text: kept beside it so that reads never render and list pages never
    # read whole articles. The defaults serve inserts that bypass the service (bulk and Core).
    content_html: Mapped[str] = mapped_column(
        Text, nullable=False, default=_content_html_default, server_default=""
    )
    excerpt: Mapped[str] = mapped_column(String(200), nullable=False)
    # Whole minutes, at least 1.
    reading_time: Mapped[int] = mapped_column(
        Integer, nullable=False, default=_reading_time_default, server_default=text("1")
    )
    # Presentation: an image shown with the post (an http(s) URL), its alt text and caption.
    feature_image: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    feature_image_alt: Mapped[str | None] = mapped_column(String(191), nullable=True)
    feature_image_caption: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # SEO and social cards (shown on the whole post only).
    meta_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    meta_description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    canonical_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    og_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    og_description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    og_image: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    featured: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    published: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # A PostStatus; set with `published` (true exactly when this is "published").
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default=_status_default, server_default=text("'draft'")
    )
    # The author's optional summary.
    description: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # When the post was first published (or is to be, while scheduled; backdated by imports);
    # kept when it is unpublished and published again.
    published_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, default=_published_at_default
    )

    author: Mapped[User] = relationship(lazy="raise", innerjoin=True)
    # Deleting a post removes its links through ON DELETE CASCADE, not through the ORM.
    tags: Mapped[list[Tag]] = relationship(
        secondary=post_tags, lazy="raise", order_by=Tag.name, passive_deletes=True
    )
    # Every slug the post has had, its current one included (written with the post; the
    # database deletes them with it).
    slug_history: Mapped[list[PostSlug]] = relationship(lazy="raise", passive_deletes=True)

    __table_args__ = (
        # One index per list order the API offers, for the public list and an author's list.
        Index("ix_posts_published_published_at_id", "published", "published_at", "id"),
        Index("ix_posts_published_created_at_id", "published", "created_at", "id"),
        Index("ix_posts_published_title_key_id", "published", "title_key", "id"),
        Index("ix_posts_author_id_created_at_id", "author_id", "created_at", "id"),
        Index("ix_posts_author_id_published_at_id", "author_id", "published_at", "id"),
        # The featured posts (?featured=true), newest publication first.
        Index(
            "ix_posts_featured_published_published_at_id",
            "featured",
            "published",
            "published_at",
            "id",
        ),
        # What the publishing job looks for: the scheduled posts, by their instant.
        Index(
            "ix_posts_scheduled_published_at",
            "published_at",
            postgresql_where=text("status = 'scheduled'"),
            sqlite_where=text("status = 'scheduled'"),
        ),
        {"sqlite_autoincrement": True},
    )

    @validates("title")
    def _set_title_key(self, _key: str, title: str) -> str:
        self.title_key = title_sort_key(title)
        return title


class PostSlug(Base):
    """Every slug a post has had, its current one included: what keeps an old link leading to
    the post (a 301 to the current slug), and what makes a slug once used unusable for any
    other post (the primary key settles races). Deleting a post frees its slugs (ON DELETE
    CASCADE)."""

    __tablename__ = "post_slugs"

    slug: Mapped[str] = mapped_column(String(255), primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, index=True
    )


# How many revisions a post keeps: older ones are deleted when a newer one is written.
MAX_REVISIONS = 25


class PostRevision(Base):
    """A version of a post that a change replaced: its title, description, content and
    status as they were, who made the change that replaced it (null once that account is
    deleted), and when."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(String(300), nullable=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        # A post's revisions, newest first (and its cascade).
        Index("ix_post_revisions_post_id_id", "post_id", "id"),
        {"sqlite_autoincrement": True},
    )


class Favorite(Base):
    """A user's favorite post."""

    __tablename__ = "favorites"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user: Mapped[User] = relationship(lazy="raise")
    post: Mapped[Post] = relationship(lazy="raise")

    __table_args__ = (
        # The primary key serves "posts a user favorited" and the per-viewer flag; this one
        # serves a post's cascade and "who favorited it", most recent first.
        Index("ix_favorites_post_id_created_at", "post_id", "created_at"),
    )


class Follow(Base):
    """`follower` follows `followed`."""

    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followed_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    follower: Mapped[User] = relationship(foreign_keys=[follower_id], lazy="raise")
    followed: Mapped[User] = relationship(foreign_keys=[followed_id], lazy="raise")

    __table_args__ = (
        CheckConstraint("follower_id <> followed_id", name="not_self"),
        # A user's followers, most recent first (and the cascade of the followed user).
        Index("ix_follows_followed_id_created_at", "followed_id", "created_at", "follower_id"),
        # Whom a user follows, most recent first.
        Index("ix_follows_follower_id_created_at", "follower_id", "created_at", "followed_id"),
    )


class Comment(TimestampMixin, Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), nullable=False)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)

    post: Mapped[Post] = relationship(lazy="raise")
    author: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (
        # A post's comments, oldest first (and the post's cascade).
        Index("ix_comments_post_id_created_at_id", "post_id", "created_at", "id"),
        # The author's cascade.
        Index("ix_comments_author_id", "author_id"),
        {"sqlite_autoincrement": True},
    )


class Counter(StrEnum):
    """The counters, by name; each is keyed by an id (0 for a global one)."""

    PUBLISHED_POSTS = "published_posts"  # key 0: published posts in all
    TAG_POSTS = "tag_posts"  # key tag id: published posts carrying the tag
    USER_POSTS = "user_posts"  # key user id: the user's published posts (posts_count)
    POST_FAVORITES = "post_favorites"  # key post id: favorites_count
    POST_COMMENTS = "post_comments"  # key post id: comments_count
    USER_FOLLOWERS = "user_followers"  # key user id: followers_count
    USER_FOLLOWING = "user_following"  # key user id: following_count


class CounterDelta(Base):
    """The one counter mechanism: every count blog-api shows is the sum of its rows here.

    Database triggers (see the migrations) append one signed row per change, in the same
    transaction as the change, cascades included: writers only ever INSERT here, so they never
    wait on each other and never lock a shared row. `counters.fold()` from time to time
    replaces a counter's rows by their sum (one row, `pending` false), so that a read sums a
    handful of rows. A count is `sum(delta) WHERE name = ... AND key = ...` (see
    `repositories.counters`), exact as soon as the change commits. `Counter` names them.
    """

    __tablename__ = "counter_deltas"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), nullable=False)
    key: Mapped[int] = mapped_column(Integer, nullable=False)
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    # True for a change appended by a trigger; false for a sum written by a fold.
    pending: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=text("true")
    )

    __table_args__ = (
        # Covers every read: the rows of one counter, with their deltas.
        Index("ix_counter_deltas_name_key_delta", "name", "key", "delta"),
        # What the fold looks for.
        Index(
            "ix_counter_deltas_pending",
            "id",
            postgresql_where=text("pending"),
            sqlite_where=text("pending"),
        ),
        {"sqlite_autoincrement": True},
    )


class AuthSession(Base):
    """A session: what one sign-in with the password starts. Every access token names its
    session (the `sid` claim) and works only while this row exists; refresh tokens belong to
    it too. Ending a session (logout, a reused refresh token, a password change for the other
    sessions, "log out everywhere") deletes the row, which ends its access tokens at once and
    takes its refresh tokens with it (ON DELETE CASCADE)."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4, hex
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # When the password was checked: the `auth_time` of every token of the session.
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # No token of the session outlives this (refreshes and reissues move it on): past it the
    # row is only kept until the user's next sign-in tidies it away.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class RefreshToken(Base):
    """One refresh token of a session. Only its SHA-256 is stored: the token itself is 256
    random bits, so a hash lookup is as safe as a slow hash and much cheaper.

    Every refresh replaces the token (rotation) within the same session. A token is kept,
    marked used, until its session ends, so that a second use is recognised: that ends the
    session (someone else holds a copy)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
