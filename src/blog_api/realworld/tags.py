"""RealWorld: tags."""

from __future__ import annotations

from blog_api.kit.routing import PathRouter
from blog_api.realworld.bodies import TagsResponseBody
from blog_api.realworld.errors import RealWorldRoute
from blog_api.realworld.openapi import responses
from blog_api.realworld.schemas import TagsResponse
from blog_api.tags.deps import TagServiceDep

router = PathRouter(route_class=RealWorldRoute, tags=["Tags"])


@router.get(
    "/tags",
    operation_id="GetTags",
    summary="Get tags",
    description="Get tags. Auth not required",
    response_model=TagsResponse,
    responses=responses(422),
)
async def get_tags(tags: TagServiceDep) -> TagsResponseBody:
    """Every tag on at least one article, most used first, uncapped."""
    return {"tags": await tags.names_in_use()}
