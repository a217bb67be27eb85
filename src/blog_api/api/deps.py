"""Dependency chains: session -> service (with its repositories), and the current user.

Routes read as plain signatures through the `Annotated` aliases. Every dependency is
`async def`, even those that never await: FastAPI runs a plain `def` dependency in a worker
thread, which costs more than the work itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Request, Response
from fastapi.security import OAuth2PasswordBearer
from pydantic import BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api.db import Access, ping, transaction
from blog_api.errors import AuthenticationError
from blog_api.models import MAX_ID, User
from blog_api.ratelimit import RateLimiter
from blog_api.repositories import (
    AuthSessionRepository,
    CommentRepository,
    FavoriteRepository,
    FollowRepository,
    PostRepository,
    TagRepository,
    UserRepository,
)
from blog_api.rules import check_decimal_id
from blog_api.security import PasswordHasher, TokenCodec
from blog_api.services import (
    AuthService,
    CommentService,
    FavoriteService,
    FollowService,
    PostService,
    TagService,
    UserService,
)
from blog_api.services.auth import SessionService, UserStore

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session_factory(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed before the response is sent, rolled back on error.

    Registered with scope="function" (below) so that the commit happens before FastAPI sends the
    response: a failed commit becomes an error answer, never a 2xx.
    """
    access = Access.READ if request.method in _SAFE_METHODS else Access.WRITE
    async with transaction(_session_factory(request), access) as session:
        yield session


async def database_answers(request: Request) -> bool:
    return await ping(request.app.state.engine)


DatabaseAnswersDep = Annotated[bool, Depends(database_answers)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def no_store(response: Response) -> None:
    """For answers that carry a token or a user's private data: no cache may keep them
    (RFC 9111, 5.2.2.5; RFC 6749, 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


# Declared on the routes (or routers) whose answers carry tokens or private data.
NO_STORE = Depends(no_store)


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]


# Services: one dependency each, built with their repositories on the request's session.
# Repositories hold nothing but the session, so a service makes its own: FastAPI solves every
# sub-dependency again on each use, cached or not, so each dependency layer costs every
# request that uses it.
async def get_user_service(session: SessionDep, hasher: HasherDep) -> UserService:
    return UserService(UserRepository(session), hasher)


async def get_post_service(session: SessionDep) -> PostService:
    return PostService(PostRepository(session), TagRepository(session))


async def get_tag_service(session: SessionDep) -> TagService:
    return TagService(TagRepository(session))


async def get_comment_service(session: SessionDep) -> CommentService:
    return CommentService(CommentRepository(session), PostRepository(session))


async def get_favorite_service(session: SessionDep) -> FavoriteService:
    posts = PostRepository(session)
    return FavoriteService(
        FavoriteRepository(session), posts, PostService(posts, TagRepository(session))
    )


async def get_follow_service(session: SessionDep, hasher: HasherDep) -> FollowService:
    users = UserRepository(session)
    return FollowService(FollowRepository(session), users, UserService(users, hasher))


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
PostServiceDep = Annotated[PostService, Depends(get_post_service)]
TagServiceDep = Annotated[TagService, Depends(get_tag_service)]
CommentServiceDep = Annotated[CommentService, Depends(get_comment_service)]
FavoriteServiceDep = Annotated[FavoriteService, Depends(get_favorite_service)]
FollowServiceDep = Annotated[FollowService, Depends(get_follow_service)]


def _user_store(request: Request) -> UserStore:
    """Short transactions of authentication's own (see services/auth.py), never the request's:
    the request's transaction must not be open while a password is hashed."""
    factory = _session_factory(request)

    @asynccontextmanager
    async def open_users(access: Access) -> AsyncIterator[UserRepository]:
        async with transaction(factory, access) as session:
            yield UserRepository(session)

    return open_users


async def get_auth_service(request: Request) -> AuthService:
    state = request.app.state
    return AuthService(
        _user_store(request),
        state.hasher,
        state.token_codec,
        refresh_lifetime=timedelta(days=state.settings.refresh_token_expire_days),
        guard=state.rate_limiter,
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_optional_user(
    request: Request, token: Annotated[str | None, Depends(_bearer)]
) -> User | None:
    """None without a token; 401 for a bad token, even on endpoints where auth is optional.

    The user is a snapshot from authentication's own short transaction: services use it to
    decide, and lock what they change in the request's transaction. The auth service is built
    only when there is a token to check: most reads are anonymous.
    """
    if token is None:
        return None
    return (await (await get_auth_service(request)).authenticate(token)).user


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

# Ids are 32-bit in the database: anything larger is refused here instead of overflowing there.
UserIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A user id"), BeforeValidator(check_decimal_id)
]
PostIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A post id"), BeforeValidator(check_decimal_id)
]
CommentIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A comment id"), BeforeValidator(check_decimal_id)
]


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def client_address(request: Request) -> str:
    """The caller's address, as the server sees it (behind a proxy, run Uvicorn with
    --proxy-headers and --forwarded-allow-ips so that this is the real client)."""
    return request.client.host if request.client else "unknown"
