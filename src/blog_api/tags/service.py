"""Tags and how much they are used."""

from __future__ import annotations

from collections.abc import Sequence

from blog_api.kit.listing import Page, Window
from blog_api.models import Tag
from blog_api.tags.repository import TagRepository
from blog_api.tags.views import TagCountView


class TagService:
    """The door to the tags for both faces of the API (routers speak to services only). No
    rule of its own: a tag shows while a published post carries it, which the counts say."""

    def __init__(self, tags: TagRepository) -> None:
        self.tags = tags

    async def get_or_create(self, names: Sequence[str]) -> list[Tag]:
        """The tags called `names` (normalised names), created when missing; safe to race."""
        return await self.tags.get_or_create(names)

    async def popular(self, window: Window) -> Page[TagCountView]:
        """Tags on published posts with their counts, most used first, then by name."""
        return await self.tags.popular(window)

    async def names_in_use(self) -> list[str]:
        """Every tag on at least one published post (uncapped), most used first."""
        return await self.tags.names_in_use()
