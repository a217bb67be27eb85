"""Tags and how much they are used."""

from __future__ import annotations

from collections.abc import Sequence

from blog_api.models import Tag
from blog_api.repositories import TagRepository


class TagService:
    def __init__(self, tags: TagRepository) -> None:
        self.tags = tags

    async def popular(self, *, page: int, per_page: int) -> tuple[Sequence[Tag], int]:
        return await self.tags.popular(page=page, per_page=per_page)
