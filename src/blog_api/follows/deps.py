"""The follows' dependency: their service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from blog_api.follows.repository import FollowRepository
from blog_api.follows.service import FollowService
from blog_api.kit.deps import SessionDep
from blog_api.users.deps import HasherDep, user_service


async def get_follow_service(session: SessionDep, hasher: HasherDep) -> FollowService:
    return FollowService(FollowRepository(session), user_service(session, hasher))


FollowServiceDep = Annotated[FollowService, Depends(get_follow_service)]
