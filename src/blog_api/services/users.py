"""Accounts: registration, profile changes, deletion, and who may do them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blog_api.db import utcnow
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
        """Change a user. `actor` is the caller's snapshot from authentication.

        Every bcrypt happens before the first statement of the transaction, so no connection
        (nor SQLite's write lock) is held while it runs; the target is then locked, and a
        password or email change only applies if the password is still the one just checked.
        """
        sent = data.model_dump(exclude_unset=True)
        if "is_active" in sent and not actor.is_superuser:
            raise PermissionDeniedError("Only a superuser may change is_active")
        await self._check_may_manage(actor, user_id)
        acting_on_self = actor.id == user_id
        email = sent["email"].lower() if "email" in sent else None
        sensitive = "password" in sent or (email is not None and email != actor.email)
        checked_hash = None
        if acting_on_self and sensitive:
            await self._check_current_password(actor, data.current_password)
            checked_hash = actor.hashed_password
        new_hash = await self.hasher.hash(data.password) if data.password is not None else None

        target = await self.users.get_for_update(user_id)
        if target is None:
            raise NotFoundError(f"User {user_id} not found")
        if checked_hash is not None and target.hashed_password != checked_hash:
            raise ConflictError("The password was changed at the same time; try again")
        changes: dict[str, Any] = {}
        if "is_active" in sent:
            changes["is_active"] = sent["is_active"]
        if "bio" in sent:
            changes["bio"] = sent["bio"]
        if "username" in sent and sent["username"] != target.username:
            changes["username"] = sent["username"]
        if email is not None and email != target.email:
            changes["email"] = email
        if new_hash is not None:
            changes["hashed_password"] = new_hash
            changes["password_changed_at"] = utcnow()
        if not changes:
            return target
        try:
            return await self.users.update(target, changes)
        except UniqueViolation:
            raise await self._conflict(
                email=changes.get("email"), username=changes.get("username"), exclude_id=user_id
            ) from None

    async def delete(self, actor: User, user_id: int) -> None:
        await self._check_may_manage(actor, user_id)
        target = await self.users.get_for_update(user_id)
        if target is None:
            raise NotFoundError(f"User {user_id} not found")
        await self.users.delete(target)

    async def _check_may_manage(self, actor: User, user_id: int) -> None:
        """A user may change themself; a superuser anyone. Others get 404 for a user that does
        not exist, else 403."""
        if actor.id == user_id or actor.is_superuser:
            return
        await self.get(user_id)
        raise PermissionDeniedError("You may only change your own account")

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
