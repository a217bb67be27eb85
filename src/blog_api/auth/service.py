"""Logging in, sessions (refresh tokens), and turning a bearer token back into a user.

Authentication works in short transactions of its own, never across a bcrypt: it reads what
it needs, gives the connection back, and only then spends a quarter of a second hashing. A
burst of logins thus never holds connections from the pool, nor SQLite's write lock, while
it hashes. The user it returns is a snapshot: services decide with it and lock what they
change. The one exception is checking a token for a read (a GET): that is one statement and
no hashing, so it runs on the request's own read unit (`authenticate(..., within=...)`), and
an authenticated GET takes one connection, not two.

A sign-in with the password starts a session (a row of its own): a short-lived access token
(a JWT naming the session) and, on the native face, a refresh token. An access token works only
while its session lives, so ending a session ends its access tokens at once. A refresh token is
opaque and random, stored only as a hash, and used up by the refresh that presents it, which
hands out a new one of the same session (rotation). A used token presented again means two
parties hold it: the session ends.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from blog_api.auth.repository import AuthSessionRepository, RefreshTokenRepository
from blog_api.auth.security import (
    REFRESH_TOKEN_MAX_LENGTH,
    AccessToken,
    TokenClaims,
    TokenCodec,
    new_refresh_token,
    new_session_id,
    refresh_token_digest,
)
from blog_api.kit.db import Access, utcnow
from blog_api.kit.errors import CALLER_GONE, AuthenticationError, PermissionDeniedError
from blog_api.models import AuthSession, RefreshToken, User
from blog_api.users.passwords import PasswordHasher
from blog_api.users.service import UserService

WRONG_CREDENTIALS = "Incorrect username or password"
BAD_REFRESH_TOKEN = "The refresh token is invalid, expired or already used"  # noqa: S105
# Longer than any email or username can be: such a login names no account.
MAX_LOGIN_LENGTH = 320
DEFAULT_REFRESH_LIFETIME = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class AuthUnit:
    """What authentication works with inside one of its own short transactions."""

    users: UserService
    sessions: AuthSessionRepository
    refresh_tokens: RefreshTokenRepository


# Opens a transaction of the given kind and hands out an AuthUnit on it.
AuthStore = Callable[[Access], AbstractAsyncContextManager[AuthUnit]]


class LoginGuard(Protocol):
    """Counts logins per client address and failed ones per account (see
    blog_api.kit.ratelimit.RateLimiter)."""

    async def login_from(self, address: str) -> None:
        """Count a login attempt from `address`; raise when there were too many."""

    async def login_attempt(self, account: str) -> None:
        """Count an attempt at `account` before its bcrypt; raise when there were too many."""

    async def login_succeeded(self, account: str) -> None:
        """Start the account's count afresh."""


class _NoGuard:
    async def login_from(self, address: str) -> None:
        return None

    async def login_attempt(self, account: str) -> None:
        return None

    async def login_succeeded(self, account: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class SessionTokens:
    access: AccessToken
    refresh_token: str
    refresh_expires_in: int  # seconds


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Who a valid access token belongs to (a snapshot), and what the token says."""

    user: User
    claims: TokenClaims


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A sign-in without a refresh token: the user and the session's first access token."""

    user: User
    access: AccessToken


class SessionService:
    """Starts and continues sessions on the unit of work it is given: authentication's own
    short transactions, or a request's (a registration that signs the new user in)."""

    def __init__(
        self,
        sessions: AuthSessionRepository,
        tokens: TokenCodec,
        lifetime: timedelta = DEFAULT_REFRESH_LIFETIME,
    ) -> None:
        self.sessions = sessions
        self.tokens = tokens
        self.lifetime = lifetime

    async def start(self, user_id: int) -> AuthSession:
        """A new session of the user, signed in with the password now. It lasts `lifetime`
        (each refresh moves that on)."""
        now = utcnow()
        await self.sessions.drop_expired(user_id, now)
        session = AuthSession(
            id=new_session_id(),
            user_id=user_id,
            authenticated_at=now,
            expires_at=now + self.lifetime,
        )
        return await self.sessions.add(session)

    async def sign_in(self, user_id: int) -> AccessToken:
        """Start a session and answer its first access token."""
        return _access_token(self.tokens, await self.start(user_id))

    def reissue(self, claims: TokenClaims) -> AccessToken:
        """A fresh access token of the same session. It keeps the session's `auth_time`: only
        a sign-in with the password makes a token recent."""
        return self.tokens.issue(claims.user_id, claims.session_id, claims.authenticated_at)


class AuthService:
    def __init__(
        self,
        open_unit: AuthStore,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        refresh_lifetime: timedelta = DEFAULT_REFRESH_LIFETIME,
        guard: LoginGuard | None = None,
    ) -> None:
        self.open_unit = open_unit
        self.guard = guard or _NoGuard()
        self.hasher = hasher
        self.tokens = tokens
        self.refresh_lifetime = refresh_lifetime

    def _sessions(self, unit: AuthUnit) -> SessionService:
        return SessionService(unit.sessions, self.tokens, self.refresh_lifetime)

    async def login(self, login: str, password: str, address: str) -> SignedIn:
        """Sign in without a refresh token (the RealWorld face), from client `address`.
        `login` is a username or an email. The answer to a wrong password and to an unknown
        account is the same, and takes the same time."""
        user, new_hash = await self._authenticate(login, password, address)
        async with self.open_unit(Access.WRITE) as unit:
            if new_hash is not None:
                await unit.users.replace_password_hash(user, new_hash)
            access = await self._sessions(unit).sign_in(user.id)
        return SignedIn(user, access)

    async def start_session(self, login: str, password: str, address: str) -> SessionTokens:
        """Log in (as `login`, from client `address`) and start a session: an access token
        and a refresh token."""
        user, new_hash = await self._authenticate(login, password, address)
        async with self.open_unit(Access.WRITE) as unit:
            if new_hash is not None:
                await unit.users.replace_password_hash(user, new_hash)
            session = await self._sessions(unit).start(user.id)
            refresh = await self._add_refresh_token(unit, session)
        return self._pair(session, refresh)

    async def refresh(self, refresh_token: str) -> SessionTokens:
        """Use up `refresh_token` for a new pair. A token used before ends its session.

        The session is locked before the token, the order in which ending a session takes
        them (the row, then its tokens by the cascade), so a refresh racing a logout or a
        password change queues behind it instead of deadlocking."""
        digest = _digest(refresh_token)
        reused = False
        async with self.open_unit(Access.WRITE) as unit:
            tokens, sessions = unit.refresh_tokens, unit.sessions
            found = await tokens.get_by_hash(digest) if digest else None
            session = await sessions.get_for_update(found.session_id) if found else None
            row = await tokens.get_by_hash_for_update(digest) if session else None
            if session is None or row is None:
                raise AuthenticationError(BAD_REFRESH_TOKEN)
            now = utcnow()
            if row.used_at is not None:
                reused = True
                await sessions.end(session.id)  # committed before the 401 below
            elif row.expires_at <= now:
                raise AuthenticationError(BAD_REFRESH_TOKEN)
            else:
                user = await unit.users.find(row.user_id)
                if user is None:  # deleted meanwhile (the cascade takes its tokens)
                    raise AuthenticationError(BAD_REFRESH_TOKEN)
                if not user.is_active:
                    raise PermissionDeniedError("This account is inactive")
                await tokens.update(row, {"used_at": now})
                refresh = await self._add_refresh_token(unit, session)
                await sessions.extend(session.id, now + self.refresh_lifetime)
        if reused:
            raise AuthenticationError(
                "The refresh token was already used: the session it belonged to has ended"
            )
        return self._pair(session, refresh)

    async def logout(self, refresh_token: str) -> None:
        """End the session `refresh_token` belongs to, its access tokens included. An unknown
        or ended token is no error: the session is over either way."""
        digest = _digest(refresh_token)
        if not digest:
            return
        async with self.open_unit(Access.WRITE) as unit:
            row = await unit.refresh_tokens.get_by_hash(digest)
            if row is not None:
                await unit.sessions.end(row.session_id)

    async def logout_everywhere(self, user: User) -> None:
        """End every session of `user`, with their access and refresh tokens."""
        async with self.open_unit(Access.WRITE) as unit:
            await unit.users.end_sessions(user.id)

    async def authenticate(
        self, token: str, within: AuthSessionRepository | None = None
    ) -> Authenticated:
        """The user a valid access token of a live session belongs to. One statement: the
        user and whether the session lives, read `within` the request's own read unit when
        one is given (a GET: no second unit, no second connection), else in a short read unit
        of authentication's own (a write's transaction must not be open before it needs to
        be: on SQLite it holds the write lock, and a password may be hashed first)."""
        claims = self.tokens.read(token)
        if claims is None:
            raise AuthenticationError("The access token is invalid or expired")
        if within is not None:
            found = await within.user_in_session(claims.user_id, claims.session_id, utcnow())
        else:
            async with self.open_unit(Access.READ) as unit:
                found = await unit.sessions.user_in_session(
                    claims.user_id, claims.session_id, utcnow()
                )
        if found is None:
            raise AuthenticationError(CALLER_GONE)
        user, session_live = found
        if not session_live:
            raise AuthenticationError(
                "The access token's session has ended (logout, a password change, or a reused "
                "refresh token)"
            )
        if not user.is_active:
            raise PermissionDeniedError("This account is inactive")
        return Authenticated(user, claims)

    async def _authenticate(
        self, login: str, password: str, address: str
    ) -> tuple[User, str | None]:
        """The user `login` names, if `password` is theirs. Attempts are counted per client
        address, and failed ones per account (by id, so a username and an email count
        together; an unknown login by its spelling, the same way), before any bcrypt."""
        await self.guard.login_from(address)
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

    async def _add_refresh_token(self, unit: AuthUnit, session: AuthSession) -> str:
        token = new_refresh_token()
        now = utcnow()
        await unit.refresh_tokens.add(
            RefreshToken(
                user_id=session.user_id,
                session_id=session.id,
                token_hash=refresh_token_digest(token),
                created_at=now,
                expires_at=now + self.refresh_lifetime,
            )
        )
        return token

    def _pair(self, session: AuthSession, refresh_token: str) -> SessionTokens:
        return SessionTokens(
            access=_access_token(self.tokens, session),
            refresh_token=refresh_token,
            refresh_expires_in=int(self.refresh_lifetime.total_seconds()),
        )

    async def _find(self, login: str) -> User | None:
        if len(login) > MAX_LOGIN_LENGTH or "\x00" in login:
            return None
        async with self.open_unit(Access.READ) as unit:
            return await unit.users.find_by_login(login)


def _access_token(tokens: TokenCodec, session: AuthSession) -> AccessToken:
    return tokens.issue(session.user_id, session.id, session.authenticated_at.timestamp())


def _digest(refresh_token: str) -> str:
    """The stored form of a token, or "" for something that cannot be one."""
    if not refresh_token or len(refresh_token) > REFRESH_TOKEN_MAX_LENGTH:
        return ""
    return refresh_token_digest(refresh_token)
