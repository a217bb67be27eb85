"""Password hashing (always off the event loop) and JWT access tokens."""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import anyio
import anyio.to_thread
import jwt
from passlib.context import CryptContext

from blog_api.models import MAX_ID
from blog_api.rules import hashable

JWT_ALGORITHM = "HS256"
T = TypeVar("T")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. under taskset or a container)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class PasswordHasher:
    """bcrypt through the passlib API; every call runs in a worker thread.

    A 12-round bcrypt takes about a quarter of a second: run on the event loop it would stall
    every other request for that long. At most `max_concurrency` hashes run at once (by
    default one per usable CPU): a burst of logins then queues instead of starting a thread
    each, which would crowd the event loop off its CPU without finishing any sooner.
    """

    def __init__(self, rounds: int, max_concurrency: int | None = None) -> None:
        self._context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        self._dummy_hash: str | None = None
        self._max_concurrency = max_concurrency or usable_cpus()
        self._limiter: anyio.CapacityLimiter | None = None

    async def _run(self, func: Callable[..., T], *args: str) -> T:
        if self._limiter is None:  # made on first use, inside the running event loop
            self._limiter = anyio.CapacityLimiter(self._max_concurrency)
        return await anyio.to_thread.run_sync(func, *args, limiter=self._limiter)

    async def hash(self, password: str) -> str:
        result: str = await self._run(self._context.hash, password)
        return result

    async def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """Check `password`; also return a new hash when `hashed` uses outdated settings.

        A secret bcrypt cannot take (over 72 bytes, or with a NUL) is simply wrong, after the
        time a real check takes.
        """
        if not hashable(password):
            await self.dummy_verify(password)
            return False, None
        result: tuple[bool, str | None] = await self._run(
            self._context.verify_and_update, password, hashed
        )
        return result

    async def dummy_verify(self, password: str) -> None:
        """Spend the time a real check takes, so timing does not tell which accounts exist."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("blog-api-dummy-password")
        secret = password if hashable(password) else "blog-api-unusable-password"
        await self._run(self._context.verify, secret, self._dummy_hash)


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    session_id: str  # the session the token belongs to (`sid`)
    issued_at: float  # seconds since the epoch, to the microsecond (`iat`)
    authenticated_at: float  # when the password was checked (`auth_time`, as in OpenID Connect)


# A session id: a uuid4 in hex.
SESSION_ID_LENGTH = 32


def new_session_id() -> str:
    return uuid.uuid4().hex


def _is_session_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) == SESSION_ID_LENGTH
        and all(c in "0123456789abcdef" for c in value)
    )


def _time(value: object) -> float | None:
    """A NumericDate claim as seconds, or None when it is not a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


# A refresh token: 32 random bytes, base64url (43 characters).
REFRESH_TOKEN_BYTES = 32
REFRESH_TOKEN_MAX_LENGTH = 64


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_digest(token: str) -> str:
    """What the database keeps of a refresh token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenCodec:
    """HS256 JWTs with `sub` (the user id), `sid` (the session), `iat`, `exp` and `auth_time`
    (when the session's sign-in checked the password); the algorithm is pinned on decode."""

    def __init__(self, secret: str, expire_minutes: int) -> None:
        self._secret = secret
        self._lifetime = timedelta(minutes=expire_minutes)

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    def issue(self, user_id: int, session_id: str, authenticated_at: float) -> AccessToken:
        # `iat` keeps its microseconds (RFC 7519 allows a fractional NumericDate).
        now = datetime.now(UTC).timestamp()
        lifetime = self._lifetime.total_seconds()
        claims = {
            "sub": str(user_id),
            "sid": session_id,
            "iat": now,
            "exp": int(now + lifetime),
            "auth_time": authenticated_at,
        }
        token = jwt.encode(claims, self._secret, algorithm=JWT_ALGORITHM)
        return AccessToken(token=token, expires_in=int(lifetime))

    def read(self, token: str) -> TokenClaims | None:
        """The claims of a valid token, or None for a malformed, forged or expired one."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                options={"require": ["sub", "sid", "exp", "iat", "auth_time"]},
            )
        except jwt.PyJWTError:
            return None
        sub, session_id = claims.get("sub"), claims.get("sid")
        issued_at, authenticated_at = _time(claims.get("iat")), _time(claims.get("auth_time"))
        if not isinstance(sub, str) or not (sub.isascii() and sub.isdigit()) or len(sub) > 10:
            return None
        if not isinstance(session_id, str) or not _is_session_id(session_id):
            return None
        if issued_at is None or authenticated_at is None:
            return None
        user_id = int(sub)
        if not 0 < user_id <= MAX_ID:
            return None
        return TokenClaims(user_id, session_id, issued_at, authenticated_at)
