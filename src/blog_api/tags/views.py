"""What reads of tags answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TagCountView:
    """A tag on at least one published post, with how many carry it (TagCount)."""

    name: str
    post_count: int
