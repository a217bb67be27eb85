"""The orders of follower and following lists."""

from __future__ import annotations

from enum import StrEnum


class FollowSort(StrEnum):
    RECENT = "-followed_at"  # the most recent follow first
