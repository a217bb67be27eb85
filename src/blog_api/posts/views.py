"""What reads of posts answer: typed, immutable read models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blog_api.users.views import UserView


@dataclass(frozen=True, slots=True)
class PostAccess:
    """What decides who may see a post and what hangs off it."""

    published: bool
    author_id: int

    @classmethod
    def of_row(cls, row: Any) -> PostAccess:
        """From a row of a post's children that carries `post_published` and `post_author`."""
        return cls(row.post_published, row.post_author)


@dataclass(frozen=True, slots=True)
class _PostFields:
    """What a post shows in a list and alone: its columns, its author, its tags (sorted), its
    counts, and the viewer's flags (false for an anonymous viewer)."""

    id: int
    title: str
    slug: str
    description: str | None
    published: bool
    status: str  # a PostStatus
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    author: UserView
    tags: tuple[str, ...]
    favorites_count: int
    comments_count: int
    favorited: bool
    following_author: bool


@dataclass(frozen=True, slots=True)
class _Presented(_PostFields):
    """What a post shows in a list and alone beyond its columns: what its rendered content
    gives (the excerpt of its plain text, its reading time) and its presentation fields."""

    excerpt: str
    reading_time: int
    feature_image: str | None
    feature_image_alt: str | None
    feature_image_caption: str | None
    featured: bool


@dataclass(frozen=True, slots=True)
class PostSummaryView(_Presented):
    """A post in a list (PostSummary): the start of its content, not all of it."""


@dataclass(frozen=True, slots=True)
class PostView(_Presented):
    """A whole post (Post): its Markdown, its sanitised HTML, its SEO fields."""

    content: str
    content_html: str
    meta_title: str | None
    meta_description: str | None
    canonical_url: str | None
    og_title: str | None
    og_description: str | None
    og_image: str | None


@dataclass(frozen=True, slots=True)
class RevisionView:
    """A version of a post that a change replaced (PostRevision): `author` made that change
    (None once their account is deleted), at `created_at`."""

    id: int
    title: str
    description: str | None
    content: str
    status: str  # a PostStatus
    author: UserView | None
    created_at: datetime
