"""The favorites' dependency: their service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from blog_api.favorites.repository import FavoriteRepository
from blog_api.favorites.service import FavoriteService
from blog_api.kit.deps import SessionDep
from blog_api.posts.repository import PostRepository
from blog_api.posts.service import PostService
from blog_api.tags.repository import TagRepository


async def get_favorite_service(session: SessionDep) -> FavoriteService:
    posts = PostRepository(session)
    return FavoriteService(
        FavoriteRepository(session), posts, PostService(posts, TagRepository(session))
    )


FavoriteServiceDep = Annotated[FavoriteService, Depends(get_favorite_service)]
