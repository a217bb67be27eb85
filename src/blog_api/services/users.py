"""Accounts: registration, profile changes, deletion, and who may do them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blog_api.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from blog_api.models import User
from blog_api.repositories import UniqueViolation, UserRepository
from blog_api.schemas.users import UserCreate, UserUpdate
from blog_api.security import PasswordHasher


class UserService:
    def __init__(self, users: UserRepository, hasher: PasswordHasher) -> None:
        self.users = users
        self.hasher = hasher

    async def register(self, data: UserCreate, *, is_superuser: bool = False) -> User:
        user = User(
            email=data.email.lower(),
            username=data.username,
            hashed_password=await self.hasher.hash(data.password),
            bio=data.bio,
            is_superuser=is_superuser,
        )
        try:
            return await self.users.add(user)
        except UniqueViolation:
            raise await self._conflict(email=user.email, username=user.username) from None

    async def get(self, user_id: int) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFoundError(f"User {user_id} not found")
        return user

    async def list_newest(self, *, page: int, per_page: int) -> tuple[Sequence[User], int]:
        return await self.users.list_newest(page=page, per_page=per_page)

    async def update(self, actor: User, user_id: int, data: UserUpdate) -> User:
        target = await self._manageable(actor, user_id)
        sent = data.model_dump(exclude_unset=True)
        changes: dict[str, Any] = {}

        if "is_active" in sent:
            if not actor.is_superuser:
                raise PermissionDeniedError("Only a superuser may change is_active")
            changes["is_active"] = sent["is_active"]
        if "bio" in sent:
            changes["bio"] = sent["bio"]
        if "username" in sent and sent["username"] != target.username:
            changes["username"] = sent["username"]
        if "email" in sent and sent["email"].lower() != target.email:
            changes["email"] = sent["email"].lower()
        if "password" in sent:
            changes["hashed_password"] = None  # hashed below, once the caller is checked

        sensitive = "email" in changes or "hashed_password" in changes
        acting_for_other = actor.is_superuser and actor.id != target.id
        if sensitive and not acting_for_other:
            await self._check_current_password(target, data.current_password)
        if "hashed_password" in changes:
            assert data.password is not None
            changes["hashed_password"] = await self.hasher.hash(data.password)

        if not changes:
            return target
        target_id = target.id  # a failed savepoint expires `target`: read it before
        try:
            return await self.users.update(target, changes)
        except UniqueViolation:
            raise await self._conflict(
                email=changes.get("email"), username=changes.get("username"), exclude_id=target_id
            ) from None

    async def delete(self, actor: User, user_id: int) -> None:
        target = await self._manageable(actor, user_id)
        await self.users.delete(target)

    async def _manageable(self, actor: User, user_id: int) -> User:
        """The user `actor` wants to change: themself, or anyone for a superuser."""
        if actor.id == user_id:
            return actor
        target = await self.get(user_id)
        if not actor.is_superuser:
            raise PermissionDeniedError("You may only change your own account")
        return target

    async def _check_current_password(self, user: User, current_password: str | None) -> None:
        if current_password is None:
            raise InvalidInputError(
                "current_password is required to change the email or the password",
                loc=("body", "current_password"),
            )
        ok, _ = await self.hasher.verify_and_update(current_password, user.hashed_password)
        if not ok:
            raise PermissionDeniedError("current_password is wrong")

    async def _conflict(
        self, *, email: str | None, username: str | None, exclude_id: int | None = None
    ) -> ConflictError:
        """Say which value is taken, after the database refused a duplicate."""
        if email is not None:
            holder = await self.users.get_by_email(email)
            if holder is not None and holder.id != exclude_id:
                return ConflictError(f"The email {email} is already registered")
        if username is not None:
            holder = await self.users.get_by_username(username)
            if holder is not None and holder.id != exclude_id:
                return ConflictError(f"The username {username} is already taken")
        return ConflictError("The email or the username is already taken")
