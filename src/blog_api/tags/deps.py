"""The tags' dependency: their service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from blog_api.kit.deps import SessionDep
from blog_api.tags.repository import TagRepository
from blog_api.tags.service import TagService


async def get_tag_service(session: SessionDep) -> TagService:
    return TagService(TagRepository(session))


TagServiceDep = Annotated[TagService, Depends(get_tag_service)]
