"""The orders of comment lists."""

from __future__ import annotations

from enum import StrEnum


class CommentSort(StrEnum):
    OLDEST = "created_at"  # a conversation reads from its start
