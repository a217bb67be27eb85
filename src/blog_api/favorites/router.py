from __future__ import annotations

from blog_api.auth.deps import CurrentUser
from blog_api.favorites.deps import FavoriteServiceDep
from blog_api.kit.openapi import problem_responses
from blog_api.kit.routing import PathRouter
from blog_api.posts.deps import PostIdPath
from blog_api.posts.schemas import Post

router = PathRouter(prefix="/posts/{post_id}/favorite", tags=["favorites"])


@router.put(
    "",
    response_model=Post,
    summary="Favorite a post you can see (twice is still once)",
    responses=problem_responses(401, 403, 404, 422),
)
async def favorite_post(
    post_id: PostIdPath, me: CurrentUser, favorites: FavoriteServiceDep
) -> Post:
    return Post.model_validate(await favorites.favorite(me, post_id))


@router.delete(
    "",
    response_model=Post,
    summary="Take a favorite back (nothing to take back is fine)",
    responses=problem_responses(401, 403, 404, 422),
)
async def unfavorite_post(
    post_id: PostIdPath, me: CurrentUser, favorites: FavoriteServiceDep
) -> Post:
    return Post.model_validate(await favorites.unfavorite(me, post_id))
