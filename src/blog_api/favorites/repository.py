"""Queries on favorites. Their counts are kept by database triggers (see models.CounterDelta)."""

from __future__ import annotations

from sqlalchemy import delete

from blog_api.kit.repository import BaseRepository
from blog_api.models import Favorite


class FavoriteRepository(BaseRepository[Favorite]):
    model = Favorite

    async def favorite(self, user_id: int, post_id: int) -> bool:
        """`user_id` favorites `post_id`; a second time changes nothing (racing ones included).
        `MissingReference` when the post or the user was deleted meanwhile."""
        return await self.insert_ignoring_duplicates({"user_id": user_id, "post_id": post_id})

    async def unfavorite(self, user_id: int, post_id: int) -> None:
        await self.session.execute(
            delete(Favorite).where(Favorite.user_id == user_id, Favorite.post_id == post_id)
        )
