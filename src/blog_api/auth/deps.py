"""Who is calling: the bearer token, checked by the auth service, as dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from blog_api.auth.repository import AuthSessionRepository, RefreshTokenRepository
from blog_api.auth.security import TokenCodec
from blog_api.auth.service import (
    Authenticated,
    AuthService,
    AuthStore,
    AuthUnit,
    SessionService,
)
from blog_api.kit.db import Access, transaction
from blog_api.kit.deps import SessionDep, _session_factory, reads_only
from blog_api.kit.errors import AuthenticationError
from blog_api.models import User
from blog_api.users.deps import user_service


def _auth_store(request: Request) -> AuthStore:
    """Short transactions of authentication's own (see auth/service.py), never the request's:
    the request's transaction must not be open while a password is hashed."""
    factory = _session_factory(request)
    hasher = request.app.state.hasher

    @asynccontextmanager
    async def open_unit(access: Access) -> AsyncIterator[AuthUnit]:
        async with transaction(factory, access) as session:
            yield AuthUnit(
                users=user_service(session, hasher),
                sessions=AuthSessionRepository(session),
                refresh_tokens=RefreshTokenRepository(session),
            )

    return open_unit


async def get_auth_service(request: Request) -> AuthService:
    state = request.app.state
    return AuthService(
        _auth_store(request),
        state.hasher,
        state.token_codec,
        refresh_lifetime=timedelta(days=state.settings.refresh_token_expire_days),
        guard=state.rate_limiter,
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_optional_user(
    request: Request, token: Annotated[str | None, Depends(_bearer)], session: SessionDep
) -> User | None:
    """None without a token; 401 for a bad token, even on endpoints where auth is optional.

    A read checks the token in the request's own read unit (one connection for the whole
    request); a write, in authentication's own short one, so that its transaction opens only
    when it needs to. Either way the user is a snapshot: services use it to decide, and lock
    what they change in the request's transaction. The auth service is built only when there
    is a token to check: most reads are anonymous.
    """
    if token is None:
        return None
    return (await authenticate(request, token, session)).user


async def authenticate(request: Request, token: str, session: AsyncSession) -> Authenticated:
    """Check `token` for the request whose unit of work is `session` (see get_optional_user):
    both faces check tokens here."""
    within = AuthSessionRepository(session) if reads_only(request) else None
    return await (await get_auth_service(request)).authenticate(token, within)


async def get_current_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise AuthenticationError("Not authenticated")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_caller_session(
    request: Request, _: CurrentUser, token: Annotated[str | None, Depends(_bearer)]
) -> str:
    """The session the caller's access token belongs to (already checked by CurrentUser):
    for the operations that end the caller's other sessions. Only they read the claims
    again, so an ordinary request pays for nothing."""
    codec: TokenCodec = request.app.state.token_codec
    claims = codec.read(token or "")
    if claims is None:  # expired since it was checked, a moment ago
        raise AuthenticationError("The access token is invalid or expired")
    return claims.session_id


CallerSession = Annotated[str, Depends(get_caller_session)]


async def get_session_service(request: Request, session: SessionDep) -> SessionService:
    """Sessions started in the request's own transaction (a registration that signs in)."""
    state = request.app.state
    return SessionService(
        AuthSessionRepository(session),
        state.token_codec,
        timedelta(days=state.settings.refresh_token_expire_days),
    )


SessionServiceDep = Annotated[SessionService, Depends(get_session_service)]
