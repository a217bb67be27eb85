"""Dependency chains: session -> service (with its repositories), and the current user.

Routes read as plain signatures through the `Annotated` aliases. Every dependency is
`async def`, even those that never await: FastAPI runs a plain `def` dependency in a worker
thread, which costs more than the work itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api.kit.db import Access, ping, transaction
from blog_api.kit.ratelimit import RateLimiter

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


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def client_address(request: Request) -> str:
    """The caller's address, as the server sees it (behind a proxy, run Uvicorn with
    --proxy-headers and --forwarded-allow-ips so that this is the real client)."""
    return request.client.host if request.client else "unknown"
