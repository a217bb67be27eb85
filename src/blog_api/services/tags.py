"""Tags and how much they are used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from blog_api.repositories import TagRepository


class TagService:
    def __init__(self, tags: TagRepository) -> None:
        self.tags = tags

    async def popular(self, *, page: int, per_page: int) -> tuple[Sequence[Row[Any]], int]:
        return await self.tags.popular(page=page, per_page=per_page)
