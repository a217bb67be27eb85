"""Dependency chains: session -> service (with its repositories), and the current user.

Routes read as plain signatures through the `Annotated` aliases. Every dependency is
`async def`, even those that never await: FastAPI runs a plain `def` dependency in a worker
thread, which costs more than the work itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api.kit.db import Access, ping, transaction

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session_factory(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory


def reads_only(request: Request) -> bool:
    """Whether the request's unit of work is a read (GET, HEAD, OPTIONS): autocommit, no
    transaction, nothing that locks (see db.Access.READ)."""
    return request.method in _SAFE_METHODS


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed before the response is sent, rolled back on error.

    Registered with scope="function" (below) so that the commit happens before FastAPI sends the
    response: a failed commit becomes an error answer, never a 2xx.
    """
    access = Access.READ if reads_only(request) else Access.WRITE
    async with transaction(_session_factory(request), access) as session:
        yield session


async def database_answers(request: Request) -> bool:
    return await ping(request.app.state.engine)


DatabaseAnswersDep = Annotated[bool, Depends(database_answers)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def no_store() -> None:
    """Declared on the routes (or routers) whose answers carry tokens or a user's private
    data: SecurityHeadersMiddleware then marks every answer of theirs, errors included,
    `Cache-Control: no-store` (RFC 9111 5.2.2.5; RFC 6749 5.1, 5.2)."""


NO_STORE = Depends(no_store)


async def rate_limited() -> None:
    """Declared on the routes whose service applies a rate limit (the limits live in the
    services, which count before any bcrypt): the OpenAPI document lists their 429."""


RATE_LIMITED = Depends(rate_limited)


def client_address(request: Request) -> str:
    """The caller's address, as the server sees it (behind a proxy, run Uvicorn with
    --proxy-headers and --forwarded-allow-ips so that this is the real client)."""
    return request.client.host if request.client else "unknown"
