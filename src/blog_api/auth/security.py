"""Access tokens (HS256 JWTs naming their session) and refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from blog_api.models import MAX_ID

JWT_ALGORITHM = "HS256"


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
