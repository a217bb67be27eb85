"""Queries on refresh tokens (the sessions a login starts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from blog_api.models import RefreshToken
from blog_api.repositories.base import BaseRepository


class RefreshTokenRepository(BaseRepository[RefreshToken]):
    model = RefreshToken

    async def get_by_hash_for_update(self, token_hash: str) -> RefreshToken | None:
        """The token's row, locked until the transaction ends and read afresh, so that two
        refreshes with one token queue and the second sees the first's use."""
        stmt = (
            select(RefreshToken)
            .where(RefreshToken.token_hash == token_hash)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def end_family(self, family: str) -> None:
        await self.session.execute(delete(RefreshToken).where(RefreshToken.family == family))

    async def end_all_of(self, user_id: int) -> None:
        await self.session.execute(delete(RefreshToken).where(RefreshToken.user_id == user_id))

    async def drop_expired(self, user_id: int, now: datetime) -> None:
        """Forget the user's tokens that have run out (kept tidy at each login)."""
        await self.session.execute(
            delete(RefreshToken).where(
                RefreshToken.user_id == user_id, RefreshToken.expires_at <= now
            )
        )
