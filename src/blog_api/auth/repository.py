"""Queries on sessions (what a sign-in starts) and their refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update

from blog_api.kit.repository import BaseRepository
from blog_api.models import AuthSession, RefreshToken, User


class AuthSessionRepository(BaseRepository[AuthSession]):
    model = AuthSession

    async def extend(self, session_id: str, expires_at: datetime) -> bool:
        """Keep the session until at least `expires_at`; False when it has ended."""
        result = await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id)
            .values(expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def end(self, session_id: str) -> None:
        """End a session: its access tokens stop working, its refresh tokens go with it."""
        await self.session.execute(delete(AuthSession).where(AuthSession.id == session_id))

    async def user_in_session(
        self, user_id: int, session_id: str, now: datetime
    ) -> tuple[User, bool] | None:
        """The user, and whether `session_id` is one of their sessions and lasts past `now`, in
        one statement: what checking an access token costs."""
        session_live = (
            exists()
            .where(
                AuthSession.id == session_id,
                AuthSession.user_id == User.id,
                AuthSession.expires_at > now,
            )
            .label("session_live")
        )
        row = (
            await self.session.execute(select(User, session_live).where(User.id == user_id))
        ).one_or_none()
        return None if row is None else (row[0], bool(row[1]))

    async def drop_expired(self, user_id: int, now: datetime) -> None:
        """Forget the user's sessions that no token can use any more (tidied at each sign-in),
        and the refresh tokens that have run out in the sessions that go on."""
        await self.session.execute(
            delete(AuthSession).where(AuthSession.user_id == user_id, AuthSession.expires_at <= now)
        )
        await self.session.execute(
            delete(RefreshToken).where(
                RefreshToken.user_id == user_id, RefreshToken.expires_at <= now
            )
        )


class RefreshTokenRepository(BaseRepository[RefreshToken]):
    model = RefreshToken

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )

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
