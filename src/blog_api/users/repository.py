"""Queries on users."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    func,
    select,
    update,
)

from blog_api.kit.listing import INT, TIME, AnySelect, Listing, Page, Window, desc
from blog_api.kit.repository import BaseRepository
from blog_api.models import AuthSession, Follow, User
from blog_api.users.sorting import UserSort
from blog_api.users.views import (
    PUBLIC_COLUMNS,
    ProfileView,
    UserView,
    profile_columns,
    read_profile,
    read_user,
)

USERS = Listing("users", {UserSort.CREATED_DESC: (desc(User.created_at, TIME), desc(User.id, INT))})


@lru_cache
def _profile_select(viewer: bool, by_username: bool) -> AnySelect:
    """One Profile row's SELECT, built once: the values are bind parameters."""
    viewer_id = bindparam("viewer_id", type_=Integer) if viewer else None
    where = (
        func.lower(User.username) == bindparam("username")
        if by_username
        else User.id == bindparam("user_id", type_=Integer)
    )
    return select(*PUBLIC_COLUMNS, *profile_columns(viewer_id)).where(where)


class UserRepository(BaseRepository[User]):
    model = User

    async def exists(self, user_id: int) -> bool:
        """Whether the user exists (the primary key index alone)."""
        return await self.session.scalar(select(User.id).where(User.id == user_id)) is not None

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def get_by_username(self, username: str) -> User | None:
        return await self.session.scalar(
            select(User).where(func.lower(User.username) == username.lower())
        )

    async def list_public(self, window: Window) -> Page[UserView]:
        """Users as anyone sees them, newest first."""
        page = await USERS.fetch(
            self.session,
            lambda: select(*PUBLIC_COLUMNS),
            UserSort.CREATED_DESC,
            window,
            shape="public",
            count=lambda: select(User.id),
        )
        return page.map(read_user)

    async def profile(
        self, viewer_id: int | None, *, user_id: int | None = None, username: str | None = None
    ) -> ProfileView | None:
        """One profile by id or by username (ignoring case), in one statement."""
        stmt = _profile_select(viewer_id is not None, user_id is None)
        params = {
            "viewer_id": viewer_id,
            "user_id": user_id,
            "username": None if username is None else username.lower(),
        }
        row = (await self.session.execute(stmt, params)).one_or_none()
        return None if row is None else read_profile(row)

    async def followed_among(self, follower_id: int, user_ids: Collection[int]) -> set[int]:
        """Which of `user_ids` `follower_id` follows."""
        if not user_ids:
            return set()
        found = await self.session.scalars(
            select(Follow.followed_id).where(
                Follow.follower_id == follower_id, Follow.followed_id.in_(user_ids)
            )
        )
        return set(found)

    async def replace_password_hash(self, user_id: int, old: str, new: str) -> bool:
        """Store `new` unless the hash changed since `old` was read (a password change won)."""
        result = await self.session.execute(
            update(User)
            .where(User.id == user_id, User.hashed_password == old)
            .values(hashed_password=new)
        )
        return bool(getattr(result, "rowcount", 0))

    async def end_sessions(self, user_id: int, *, keep: str | None = None) -> None:
        """End every session of the user (their access tokens with them), but `keep`."""
        stmt = delete(AuthSession).where(AuthSession.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(AuthSession.id != keep)
        await self.session.execute(stmt)
