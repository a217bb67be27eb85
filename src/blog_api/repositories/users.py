"""Queries on users."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

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

    async def try_set_password_hash(self, user: User, hashed_password: str) -> bool:
        """Store a fresh hash if the database lets us now; False if it is busy.

        Login runs in a read transaction (it must not hold SQLite's write lock while bcrypt
        works); the upgrade to a write can then meet a newer writer, and the rehash simply waits
        for the next login.
        """
        try:
            async with self.session.begin_nested():
                user.hashed_password = hashed_password
        except OperationalError:
            return False
        return True
