from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from blog_api.api.deps import TagServiceDep
from blog_api.api.pagination import PageParamsDep
from blog_api.api.problems import problem_responses
from blog_api.schemas.common import Page
from blog_api.schemas.tags import TagCount

router = APIRouter(tags=["tags"])


@router.get(
    "/tags",
    response_model=Page[TagCount],
    summary="Tags on published posts, most used first, then by name",
    responses=problem_responses(422),
)
async def list_tags(tags: TagServiceDep, paging: PageParamsDep) -> dict[str, Any]:
    items, total = await tags.popular(page=paging.page, per_page=paging.per_page)
    return paging.body(items, total)
