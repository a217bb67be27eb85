"""Who is calling the RealWorld face: `Authorization: Token <jwt>` (or `Bearer <jwt>`).

The token is the native access token; it is checked by the same authentication service. A
token that is sent is always checked, also where none is needed (a bad one is a 401), and a
protected operation checks it before it looks anything up (auth before existence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from blog_api.auth.deps import authenticate
from blog_api.auth.security import TokenClaims
from blog_api.kit.deps import SessionDep
from blog_api.kit.errors import AuthenticationError, PermissionDeniedError
from blog_api.models import User
from blog_api.realworld.errors import INVALID, RealWorldError, error, missing_token

# RealWorld's scheme is "Token"; "Bearer" is accepted too (API.md).
SCHEMES = frozenset({"token", "bearer"})


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, the token it sent, and what that token says."""

    user: User
    token: str
    claims: TokenClaims


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if not scheme and not token:
        return None
    if scheme.lower() not in SCHEMES:
        raise error(401, "token", INVALID, headers={"WWW-Authenticate": "Token"})
    token = token.strip()
    return token or None


async def get_optional_caller(request: Request, session: SessionDep) -> Caller | None:
    token = _token(request)
    if token is None:
        return None
    authenticated = await authenticate(request, token, session)
    return Caller(authenticated.user, token, authenticated.claims)


async def get_lenient_caller(request: Request, session: SessionDep) -> Caller | None:
    """For the reads whose spec has no 401 (one article, its comments' page, the tags): a token
    that does not work is read as no token, so a reader whose session expired still sees them."""
    try:
        return await get_optional_caller(request, session)
    except (RealWorldError, AuthenticationError, PermissionDeniedError):
        return None


# Declared for the OpenAPI document only: the `Token` scheme of the RealWorld spec.
_token_scheme = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <jwt>` (or `Bearer <jwt>`): the token of `POST /users/login`",
    auto_error=False,
)


async def get_caller(
    request: Request,
    session: SessionDep,
    _header: Annotated[str | None, Depends(_token_scheme)],
) -> Caller:
    caller = await get_optional_caller(request, session)
    if caller is None:
        raise missing_token()
    return caller


OptionalCaller = Annotated[Caller | None, Depends(get_optional_caller)]
LenientCaller = Annotated[Caller | None, Depends(get_lenient_caller)]
CurrentCaller = Annotated[Caller, Depends(get_caller)]


def viewer(caller: Caller | None) -> User | None:
    return caller.user if caller is not None else None
