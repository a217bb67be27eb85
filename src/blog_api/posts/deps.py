"""The posts' dependencies: their service, and a post id in a path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from pydantic import BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api.kit.db import Access, transaction
from blog_api.kit.deps import SessionDep
from blog_api.kit.rules import check_decimal_id
from blog_api.models import MAX_ID
from blog_api.posts.repository import PostRepository
from blog_api.posts.service import PostService
from blog_api.tags.deps import tag_service


def post_service(session: AsyncSession) -> PostService:
    """The posts' service on `session` (other domains' dependencies build theirs with it)."""
    return PostService(PostRepository(session), tag_service(session))


async def publish_due_posts(factory: async_sessionmaker[AsyncSession]) -> list[int]:
    """The background job that publishes scheduled posts whose instant has come, in a
    transaction of its own; the ids it published."""
    async with transaction(factory, Access.WRITE) as session:
        return await post_service(session).publish_due()


async def get_post_service(session: SessionDep) -> PostService:
    return post_service(session)


PostServiceDep = Annotated[PostService, Depends(get_post_service)]


PostIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A post id"), BeforeValidator(check_decimal_id)
]
