"""The orders of user lists."""

from __future__ import annotations

from enum import StrEnum


class UserSort(StrEnum):
    CREATED_DESC = "-created_at"
