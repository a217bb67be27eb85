"""Accounts: registration, profile changes, deletion, and who may do them (the roles' policy,
blog_api/users/policy.py)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from blog_api.kit.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from blog_api.kit.listing import Page, Window
from blog_api.kit.repository import UniqueViolation
from blog_api.kit.rules import is_username
from blog_api.models import User
from blog_api.roles import Role
from blog_api.users.passwords import PasswordHasher
from blog_api.users.policy import Action, may
from blog_api.users.repository import UserRepository
from blog_api.users.schemas import UserCreate, UserUpdate
from blog_api.users.views import ProfileView, UserView

_SET_AS_SENT = ("is_active", "role", "bio", "image")
_SET_WHEN_CHANGED = ("username", "email")


class AccountLimits(Protocol):
    """Rate limits on what costs a bcrypt (see blog_api.kit.ratelimit.RateLimiter)."""

    async def registration(self, address: str) -> None:
        """Count a registration from client `address`; raise when there were too many."""

    async def password_change(self, user_id: int) -> None:
        """Count a change of the user's password or email; raise when there were too many."""


class _NoLimits:
    async def registration(self, address: str) -> None:
        return None

    async def password_change(self, user_id: int) -> None:
        return None


class UserService:
    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        limits: AccountLimits | None = None,
        *,
        default_role: Role = Role.AUTHOR,
    ) -> None:
        self.users = users
        self.hasher = hasher
        self.limits = limits or _NoLimits()
        self.default_role = default_role

    async def register(
        self, data: UserCreate, *, address: str | None = None, role: Role | None = None
    ) -> User:
        """A new account, with `role` (the command line's superuser is an admin) or else the
        default role (the DEFAULT_ROLE setting); registrations from a client `address` are
        rate-limited (none is given by the command line)."""
        if address is not None:
            await self.limits.registration(address)
        user = User(
            email=data.email.lower(),
            username=data.username,
            hashed_password=await self.hasher.hash(data.password),
            bio=data.bio,
            role=role or self.default_role,
        )
        try:
            return await self.users.add(user)
        except UniqueViolation:
            raise await self._conflict(email=user.email, username=user.username) from None

    async def find(self, user_id: int) -> User | None:
        return await self.users.get(user_id)

    async def exists(self, user_id: int) -> bool:
        return await self.users.exists(user_id)

    async def find_by_login(self, login: str) -> User | None:
        """The user a login names: an email (it has an @) or a username, ignoring case."""
        if "@" in login:
            return await self.users.get_by_email(login)
        return await self.users.get_by_username(login)

    async def replace_password_hash(self, user: User, new_hash: str) -> bool:
        """Store a rehash of `user`'s password, unless a password change came first."""
        return await self.users.replace_password_hash(user.id, user.hashed_password, new_hash)

    async def end_sessions(self, user_id: int) -> None:
        """End every session of the user, access tokens included ("log out everywhere")."""
        await self.users.end_sessions(user_id)

    async def get(self, user_id: int) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFoundError(f"User {user_id} not found")
        return user

    async def list_public(self, window: Window) -> Page[UserView]:
        """Every user as anyone sees them, newest first. (No rule applies: every account is
        listed, inactive ones too, as GET /users/{id} shows them. The method is the layer's
        door: routers speak to services only.)"""
        return await self.users.list_public(window)

    async def profile(self, viewer: User | None, user_id: int) -> ProfileView:
        """The Profile of a user as `viewer` sees it (`following` theirs), or 404."""
        row = await self.users.profile(viewer_id(viewer), user_id=user_id)
        if row is None:
            raise NotFoundError(f"User {user_id} not found")
        return row

    async def profile_by_username(self, viewer: User | None, username: str) -> ProfileView:
        """As `profile`, by username (ignoring case)."""
        row = (
            await self.users.profile(viewer_id(viewer), username=username)
            if is_username(username)
            else None
        )
        if row is None:
            raise NotFoundError(f"User {username[:40]!r} not found")
        return row

    async def followed_among(self, reader: User | None, user_ids: Collection[int]) -> set[int]:
        """Which of `user_ids` `reader` follows (none, for an anonymous reader)."""
        if reader is None:
            return set()
        return await self.users.followed_among(reader.id, user_ids)

    async def update(
        self,
        actor: User,
        user_id: int,
        data: UserUpdate,
        *,
        reauthenticated: bool = False,
        caller_session: str | None = None,
    ) -> User:
        """Change a user. `actor` is the caller's snapshot from authentication, signed in as
        `caller_session`.

        Changing one's own password or email takes `current_password`, unless the caller has
        proven who they are otherwise (`reauthenticated`: a face with no such field decides).
        A new password ends every other session of the user, access tokens included: the
        caller's own goes on when they change their own password.

        Every bcrypt happens before the first statement of the transaction, so no connection
        (nor SQLite's write lock) is held while it runs; the target is then locked, and a
        password or email change only applies if the password is still the one just checked.
        """
        if data.model_fields_set & {"password", "email"}:
            # It checks (and hashes) a password: rate-limited per account.
            await self.limits.password_change(user_id)
        sent = data.model_dump(exclude_unset=True)
        if "email" in sent:
            sent["email"] = sent["email"].lower()
        if "is_active" in sent and not may(actor, Action.SET_ACTIVE, user_id):
            raise PermissionDeniedError("Only an admin may change is_active")
        if "role" in sent and not may(actor, Action.SET_ROLE, user_id):
            raise PermissionDeniedError("Only an admin may change a role")
        await self._check_may_manage(actor, user_id)
        checked_hash = await self._check_identity(
            actor, user_id, sent, data.current_password, reauthenticated=reauthenticated
        )
        new_hash = await self.hasher.hash(data.password) if data.password is not None else None

        target = await self.users.get_for_update(user_id)
        if target is None:
            raise NotFoundError(f"User {user_id} not found")
        if checked_hash is not None and target.hashed_password != checked_hash:
            raise ConflictError("The password was changed at the same time; try again")
        changes = self._changes(target, sent, new_hash)
        if not changes:
            return target
        if new_hash is not None:
            # A new password is what someone does after a leak: the other sessions end.
            keep = caller_session if actor.id == user_id else None
            await self.users.end_sessions(user_id, keep=keep)
        try:
            return await self.users.update(target, changes)
        except UniqueViolation:
            raise await self._conflict(
                email=changes.get("email"), username=changes.get("username"), exclude_id=user_id
            ) from None

    async def _check_identity(
        self,
        actor: User,
        user_id: int,
        sent: dict[str, Any],
        current_password: str | None,
        *,
        reauthenticated: bool,
    ) -> str | None:
        """Changing one's own password or email takes the current password (unless the caller
        was `reauthenticated`). Answers the hash it was checked against, for the caller to find
        unchanged once the user is locked; None when nothing needed checking."""
        new_email = sent.get("email", actor.email) != actor.email
        if actor.id != user_id or not ("password" in sent or new_email):
            return None
        if not reauthenticated:
            await self._check_current_password(actor, current_password)
        return actor.hashed_password

    @staticmethod
    def _changes(target: User, sent: dict[str, Any], new_hash: str | None) -> dict[str, Any]:
        """The columns to write: the sent fields (username and email only when they differ,
        so that a no-op never trips the unique constraints), and the new password's hash."""
        changes = {name: sent[name] for name in _SET_AS_SENT if name in sent}
        changes |= {
            name: sent[name]
            for name in _SET_WHEN_CHANGED
            if name in sent and sent[name] != getattr(target, name)
        }
        if new_hash is not None:
            changes["hashed_password"] = new_hash
        return changes

    async def delete(self, actor: User, user_id: int) -> None:
        await self._check_may_manage(actor, user_id)
        target = await self.users.get_for_update(user_id)
        if target is None:
            raise NotFoundError(f"User {user_id} not found")
        await self.users.delete(target)

    async def _check_may_manage(self, actor: User, user_id: int) -> None:
        """A user may change themself; an admin anyone. Others get 404 for a user that does
        not exist, else 403."""
        if may(actor, Action.MANAGE_ACCOUNT, user_id):
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
                return ConflictError(f"The email {email} is already registered", field="email")
        if username is not None:
            holder = await self.users.get_by_username(username)
            if holder is not None and holder.id != exclude_id:
                return ConflictError(f"The username {username} is already taken", field="username")
        return ConflictError("The email or the username is already taken")


def viewer_id(viewer: User | None) -> int | None:
    """The id a read's per-viewer flags are for (None: an anonymous reader)."""
    return None if viewer is None else viewer.id
