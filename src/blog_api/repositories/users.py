"""Queries on users."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update

from blog_api.models import User
from blog_api.repositories.base import BaseRepository


class UserRepository(BaseRepository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def get_by_username(self, username: str) -> User | None:
        return await self.session.scalar(
            select(User).where(func.lower(User.username) == username.lower())
        )

    async def list_newest(self, *, page: int, per_page: int) -> tuple[Sequence[User], int]:
        stmt = select(User).order_by(User.created_at.desc(), User.id.desc())
        return await self.paginate(stmt, page=page, per_page=per_page)

    async def replace_password_hash(self, user_id: int, old: str, new: str) -> bool:
        """Store `new` unless the hash changed since `old` was read (a password change won)."""
        result = await self.session.execute(
            update(User)
            .where(User.id == user_id, User.hashed_password == old)
            .values(hashed_password=new)
        )
        return bool(getattr(result, "rowcount", 0))
