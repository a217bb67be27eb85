"""The favorites' dependency: their service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from blog_api.favorites.repository import FavoriteRepository
from blog_api.favorites.service import FavoriteService
from blog_api.kit.deps import SessionDep
from blog_api.posts.deps import post_service


async def get_favorite_service(session: SessionDep) -> FavoriteService:
    return FavoriteService(FavoriteRepository(session), post_service(session))


FavoriteServiceDep = Annotated[FavoriteService, Depends(get_favorite_service)]
