"""Dependency chains: session -> repository -> service, and the current user.

Routes read as plain signatures through the `Annotated` aliases. Every dependency is
`async def`, even those that never await: FastAPI runs a plain `def` dependency in a worker
thread, which costs more than the work itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api.db import Access, ping, transaction
from blog_api.errors import AuthenticationError
from blog_api.models import MAX_ID, User
from blog_api.ratelimit import RateLimiter
from blog_api.repositories import (
    CommentRepository,
    FavoriteRepository,
    FollowRepository,
    PostRepository,
    TagRepository,
    UserRepository,
)
from blog_api.rules import check_decimal_id
from blog_api.security import PasswordHasher
from blog_api.services import (
    AuthService,
    CommentService,
    FavoriteService,
    FollowService,
    PostService,
    TagService,
    UserService,
)
from blog_api.services.auth import UserStore

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


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]


# Repositories: one dependency each, built on the request's session. FastAPI caches them per
# request, so services that share a repository share one instance.
async def get_user_repository(session: SessionDep) -> UserRepository:
    return UserRepository(session)


async def get_post_repository(session: SessionDep) -> PostRepository:
    return PostRepository(session)


async def get_tag_repository(session: SessionDep) -> TagRepository:
    return TagRepository(session)


async def get_comment_repository(session: SessionDep) -> CommentRepository:
    return CommentRepository(session)


async def get_favorite_repository(session: SessionDep) -> FavoriteRepository:
    return FavoriteRepository(session)


async def get_follow_repository(session: SessionDep) -> FollowRepository:
    return FollowRepository(session)


UserRepositoryDep = Annotated[UserRepository, Depends(get_user_repository)]
PostRepositoryDep = Annotated[PostRepository, Depends(get_post_repository)]
TagRepositoryDep = Annotated[TagRepository, Depends(get_tag_repository)]
CommentRepositoryDep = Annotated[CommentRepository, Depends(get_comment_repository)]
FavoriteRepositoryDep = Annotated[FavoriteRepository, Depends(get_favorite_repository)]
FollowRepositoryDep = Annotated[FollowRepository, Depends(get_follow_repository)]


async def get_user_service(users: UserRepositoryDep, hasher: HasherDep) -> UserService:
    return UserService(users, hasher)


async def get_post_service(posts: PostRepositoryDep, tags: TagRepositoryDep) -> PostService:
    return PostService(posts, tags)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]


async def get_tag_service(tags: TagRepositoryDep) -> TagService:
    return TagService(tags)


PostServiceDep = Annotated[PostService, Depends(get_post_service)]
TagServiceDep = Annotated[TagService, Depends(get_tag_service)]


async def get_comment_service(
    comments: CommentRepositoryDep, posts: PostRepositoryDep
) -> CommentService:
    return CommentService(comments, posts)


async def get_favorite_service(
    favorites: FavoriteRepositoryDep, posts: PostRepositoryDep, post_service: PostServiceDep
) -> FavoriteService:
    return FavoriteService(favorites, posts, post_service)


async def get_follow_service(
    follows: FollowRepositoryDep, users: UserRepositoryDep, user_service: UserServiceDep
) -> FollowService:
    return FollowService(follows, users, user_service)


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
    return await (await get_auth_service(request)).user_for_token(token)


async def get_current_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise AuthenticationError("Not authenticated")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_current_user)]

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
