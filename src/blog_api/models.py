"""ORM models. Every relationship is `lazy="raise"`: each query says what it loads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog_api.db import Base, UTCDateTime, utcnow

# Primary keys are 32-bit integers on every database.
MAX_ID = 2**31 - 1
# GIN trigram indexes for text search, PostgreSQL only, made by hand in a migration (the
# models' metadata cannot describe them on both databases): alembic check skips them.
SEARCH_INDEXES = {"ix_posts_title_trgm": "title", "ix_posts_content_trgm": "content"}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lowercased by the service; the unique constraint then makes it case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    # Stored as typed; uniqueness is case-insensitive through the index on lower(username).
    username: Mapped[str] = mapped_column(String(32), nullable=False)
    hashed_password: Mapped[str] = mapped_column(String(255), nullable=False)
    bio: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Access tokens issued before this moment are refused (a password change logs out
    # everywhere, and a token can never outlive the account it was issued for).
    password_changed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )

    __table_args__ = (
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("ix_users_created_at_id", "created_at", "id"),
        # Never reuse the id of a deleted account (SQLite would, without AUTOINCREMENT).
        {"sqlite_autoincrement": True},
    )


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
    # How many published posts carry the tag, kept exact by database triggers (see the
    # migration), so that GET /tags reads counts instead of grouping every link.
    published_posts: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )


class Post(TimestampMixin, Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    # The start of the content, kept beside it so that list pages never read whole articles.
    excerpt: Mapped[str] = mapped_column(String(200), nullable=False)
    published: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    author: Mapped[User] = relationship(lazy="raise", innerjoin=True)
    # Deleting a post removes its links through ON DELETE CASCADE, not through the ORM.
    tags: Mapped[list[Tag]] = relationship(
        secondary=post_tags, lazy="raise", order_by=Tag.name, passive_deletes=True
    )

    __table_args__ = (
        # One index per list order the API offers, for the public list and an author's list.
        Index("ix_posts_published_created_at_id", "published", "created_at", "id"),
        Index("ix_posts_published_title_id", "published", "title", "id"),
        Index("ix_posts_author_id_created_at_id", "author_id", "created_at", "id"),
        {"sqlite_autoincrement": True},
    )


class PostStats(Base):
    """Counts kept exact by database triggers, in the same transaction as each change
    (as is Tag.published_posts).

    One row (id 1). `published_posts` is what the unfiltered public list reports as its total,
    so that page 1 costs the same at a million posts as at ten. The triggers (see the
    migration) fire on every insert, delete (cascades included) and change of `published`.
    """

    __tablename__ = "post_stats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    published_posts: Mapped[int] = mapped_column(Integer, nullable=False)
