"""Logging in, sessions (refresh tokens), and turning a bearer token back into a user.

Authentication works in short transactions of its own, never across a bcrypt: it reads what
it needs, gives the connection back, and only then spends a quarter of a second hashing. A
burst of logins thus never holds connections from the pool, nor SQLite's write lock, while
it hashes. The user it returns is a snapshot, detached from any session.

A login starts a session: a short-lived access token (a JWT) and a refresh token. A refresh
token is opaque and random, stored only as a hash, and used up by the refresh that presents
it, which hands out a new one of the same family (rotation). A used token presented again
means two parties hold it: the whole family ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from blog_api.db import Access, utcnow
from blog_api.errors import AuthenticationError, PermissionDeniedError
from blog_api.models import RefreshToken, User
from blog_api.repositories import RefreshTokenRepository, UserRepository
from blog_api.security import (
    REFRESH_TOKEN_MAX_LENGTH,
    AccessToken,
    PasswordHasher,
    TokenCodec,
    new_refresh_token,
    refresh_token_digest,
)

WRONG_CREDENTIALS = "Incorrect username or password"
BAD_REFRESH_TOKEN = "The refresh token is invalid, expired or already used"  # noqa: S105
# Longer than any email or username can be: such a login names no account.
MAX_LOGIN_LENGTH = 320
DEFAULT_REFRESH_LIFETIME = timedelta(days=30)

# Opens a transaction of the given kind and hands out a UserRepository on it.
UserStore = Callable[[Access], AbstractAsyncContextManager[UserRepository]]


class LoginGuard(Protocol):
    """Counts failed logins per account (see blog_api.ratelimit.RateLimiter)."""

    async def login_attempt(self, account: str) -> None:
        """Count an attempt at `account` before its bcrypt; raise when there were too many."""

    async def login_succeeded(self, account: str) -> None:
        """Start the account's count afresh."""


class _NoGuard:
    async def login_attempt(self, account: str) -> None:
        return None

    async def login_succeeded(self, account: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class SessionTokens:
    access: AccessToken
    refresh_token: str
    refresh_expires_in: int  # seconds


class AuthService:
    def __init__(
        self,
        open_users: UserStore,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        refresh_lifetime: timedelta = DEFAULT_REFRESH_LIFETIME,
        guard: LoginGuard | None = None,
    ) -> None:
        self.open_users = open_users
        self.guard = guard or _NoGuard()
        self.hasher = hasher
        self.tokens = tokens
        self.refresh_lifetime = refresh_lifetime

    async def login(self, login: str, password: str) -> AccessToken:
        """An access token alone (no session to refresh). `login` is a username or an email.
        The answer to a wrong password and to an unknown account is the same, and takes the
        same time."""
        user, new_hash = await self._authenticate(login, password)
        if new_hash is not None:
            async with self.open_users(Access.WRITE) as users:
                await users.replace_password_hash(user.id, user.hashed_password, new_hash)
        return self.tokens.issue(user.id)

    async def start_session(self, login: str, password: str) -> SessionTokens:
        """Log in (as `login`) and start a session: an access token and a refresh token."""
        user, new_hash = await self._authenticate(login, password)
        async with self.open_users(Access.WRITE) as users:
            if new_hash is not None:
                await users.replace_password_hash(user.id, user.hashed_password, new_hash)
            sessions = RefreshTokenRepository(users.session)
            await sessions.drop_expired(user.id, utcnow())
            refresh = await self._add_refresh_token(sessions, user.id, uuid.uuid4().hex)
        return self._pair(user.id, refresh)

    async def refresh(self, refresh_token: str) -> SessionTokens:
        """Use up `refresh_token` for a new pair. A token used before ends its family."""
        digest = _digest(refresh_token)
        reused = False
        async with self.open_users(Access.WRITE) as users:
            sessions = RefreshTokenRepository(users.session)
            row = await sessions.get_by_hash_for_update(digest) if digest else None
            if row is None:
                raise AuthenticationError(BAD_REFRESH_TOKEN)
            now = utcnow()
            if row.used_at is not None:
                reused = True
                await sessions.end_family(row.family)  # committed before the 401 below
            elif row.expires_at <= now:
                raise AuthenticationError(BAD_REFRESH_TOKEN)
            else:
                user = await users.get(row.user_id)
                if user is None:  # deleted meanwhile (the cascade takes its tokens)
                    raise AuthenticationError(BAD_REFRESH_TOKEN)
                if not user.is_active:
                    raise PermissionDeniedError("This account is inactive")
                await sessions.update(row, {"used_at": now})
                refresh = await self._add_refresh_token(sessions, row.user_id, row.family)
        if reused:
            raise AuthenticationError(
                "The refresh token was already used: every session started with it has ended"
            )
        return self._pair(row.user_id, refresh)

    async def logout(self, refresh_token: str) -> None:
        """End the session `refresh_token` belongs to. An unknown or ended token is no error:
        the session is over either way."""
        digest = _digest(refresh_token)
        if not digest:
            return
        async with self.open_users(Access.WRITE) as users:
            sessions = RefreshTokenRepository(users.session)
            row = await sessions.get_by_hash_for_update(digest)
            if row is not None:
                await sessions.end_family(row.family)

    async def logout_everywhere(self, user: User) -> None:
        """End every session of `user`: refresh tokens, and access tokens issued until now."""
        async with self.open_users(Access.WRITE) as users:
            await RefreshTokenRepository(users.session).end_all_of(user.id)
            await users.end_access_tokens(user.id, utcnow())

    async def user_for_token(self, token: str) -> User:
        claims = self.tokens.read(token)
        if claims is None:
            raise AuthenticationError("The access token is invalid or expired")
        async with self.open_users(Access.READ) as users:
            user = await users.get(claims.user_id)
        if user is None:
            raise AuthenticationError("The access token's user no longer exists")
        if claims.issued_at < user.password_changed_at.timestamp():
            raise AuthenticationError("The access token has been ended (logout or password change)")
        if not user.is_active:
            raise PermissionDeniedError("This account is inactive")
        return user

    async def _authenticate(self, login: str, password: str) -> tuple[User, str | None]:
        """The user `login` names, if `password` is theirs. Failed attempts are counted per
        account (by id, so a username and an email count together; an unknown login by its
        spelling, the same way) before any bcrypt."""
        user = await self._find(login)
        account = f"user:{user.id}" if user is not None else f"login:{login.strip().lower()}"
        await self.guard.login_attempt(account)
        if user is None:
            await self.hasher.dummy_verify(password)
            raise AuthenticationError(WRONG_CREDENTIALS)
        ok, new_hash = await self.hasher.verify_and_update(password, user.hashed_password)
        if not ok:
            raise AuthenticationError(WRONG_CREDENTIALS)
        if not user.is_active:
            raise PermissionDeniedError("This account is inactive")
        await self.guard.login_succeeded(account)
        return user, new_hash

    async def _add_refresh_token(
        self, sessions: RefreshTokenRepository, user_id: int, family: str
    ) -> str:
        token = new_refresh_token()
        now = utcnow()
        await sessions.add(
            RefreshToken(
                user_id=user_id,
                family=family,
                token_hash=refresh_token_digest(token),
                created_at=now,
                expires_at=now + self.refresh_lifetime,
            )
        )
        return token

    def _pair(self, user_id: int, refresh_token: str) -> SessionTokens:
        return SessionTokens(
            access=self.tokens.issue(user_id),
            refresh_token=refresh_token,
            refresh_expires_in=int(self.refresh_lifetime.total_seconds()),
        )

    async def _find(self, login: str) -> User | None:
        if len(login) > MAX_LOGIN_LENGTH or "\x00" in login:
            return None
        async with self.open_users(Access.READ) as users:
            if "@" in login:
                return await users.get_by_email(login)
            return await users.get_by_username(login)


def _digest(refresh_token: str) -> str:
    """The stored form of a token, or "" for something that cannot be one."""
    if not refresh_token or len(refresh_token) > REFRESH_TOKEN_MAX_LENGTH:
        return ""
    return refresh_token_digest(refresh_token)
