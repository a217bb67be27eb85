"""The orders of the tag list."""

from __future__ import annotations

from enum import StrEnum


class TagSort(StrEnum):
    POPULAR = "-post_count"  # most used first, then by name
