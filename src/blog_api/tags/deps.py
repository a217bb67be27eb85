"""The tags' dependency: their service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from blog_api.kit.deps import SessionDep
from blog_api.tags.repository import TagRepository
from blog_api.tags.service import TagService


def tag_service(session: AsyncSession) -> TagService:
    """The tags' service on `session` (other domains' dependencies build theirs with it)."""
    return TagService(TagRepository(session))


async def get_tag_service(session: SessionDep) -> TagService:
    return tag_service(session)


TagServiceDep = Annotated[TagService, Depends(get_tag_service)]
