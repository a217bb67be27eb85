from __future__ import annotations

from blog_api.kit.openapi import problem_responses
from blog_api.kit.pagination import ListWindowDep
from blog_api.kit.routing import PathRouter
from blog_api.kit.schemas import Page
from blog_api.tags.deps import TagServiceDep
from blog_api.tags.schemas import TagCount

router = PathRouter(tags=["tags"])


@router.get(
    "/tags",
    response_model=Page[TagCount],
    summary="Tags on published posts, most used first, then by name, by page or by cursor",
    responses=problem_responses(422),
)
async def list_tags(tags: TagServiceDep, window: ListWindowDep) -> Page[TagCount]:
    return Page[TagCount].of(await tags.popular(window))
