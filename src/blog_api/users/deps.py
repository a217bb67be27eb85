"""The users' dependencies: their service, and a user id in a path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from pydantic import BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession

from blog_api.kit.deps import SessionDep
from blog_api.kit.rules import check_decimal_id
from blog_api.models import MAX_ID
from blog_api.users.passwords import PasswordHasher
from blog_api.users.repository import UserRepository
from blog_api.users.service import UserService


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]


# Services: one dependency each, built with their repositories on the request's session.
# Repositories hold nothing but the session, so a service makes its own: FastAPI solves every
# sub-dependency again on each use, cached or not, so each dependency layer costs every
# request that uses it.
def user_service(session: AsyncSession, hasher: PasswordHasher) -> UserService:
    """The users' service on `session` (other domains' dependencies build theirs with it)."""
    return UserService(UserRepository(session), hasher)


async def get_user_service(request: Request, session: SessionDep, hasher: HasherDep) -> UserService:
    state = request.app.state
    return UserService(
        UserRepository(session),
        hasher,
        state.rate_limiter,
        default_role=state.settings.default_role,
    )


UserServiceDep = Annotated[UserService, Depends(get_user_service)]


# Ids are 32-bit in the database: anything larger is refused here instead of overflowing there.
UserIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A user id"), BeforeValidator(check_decimal_id)
]
