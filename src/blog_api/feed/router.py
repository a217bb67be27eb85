from __future__ import annotations

from blog_api.auth.deps import CurrentUser
from blog_api.kit.openapi import problem_responses
from blog_api.kit.pagination import ListWindowDep
from blog_api.kit.routing import PathRouter
from blog_api.kit.schemas import Page
from blog_api.posts.deps import PostServiceDep
from blog_api.posts.schemas import PostSummary

router = PathRouter(tags=["posts"])


@router.get(
    "/feed",
    response_model=Page[PostSummary],
    summary="Published posts by the users you follow, newest publication first",
    responses=problem_responses(401, 403, 422),
)
async def read_feed(
    me: CurrentUser, posts: PostServiceDep, window: ListWindowDep
) -> Page[PostSummary]:
    return Page[PostSummary].of(await posts.list_feed(me, window))
