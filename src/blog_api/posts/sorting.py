"""The orders of post lists."""

from __future__ import annotations

from enum import StrEnum


class PostSort(StrEnum):
    """Orders of post lists. Titles sort ignoring case, the same on every database."""

    PUBLISHED_DESC = "-published_at"
    PUBLISHED = "published_at"
    CREATED_DESC = "-created_at"
    CREATED = "created_at"
    TITLE = "title"
    TITLE_DESC = "-title"


class RevisionSort(StrEnum):
    """The order of a post's revisions: newest first (the latest written has the highest
    id)."""

    NEWEST = "newest"
