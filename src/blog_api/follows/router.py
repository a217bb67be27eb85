from __future__ import annotations

from blog_api.auth.deps import CurrentUser
from blog_api.follows.deps import FollowServiceDep
from blog_api.kit.openapi import problem_responses
from blog_api.kit.pagination import ListWindowDep
from blog_api.kit.routing import PathRouter
from blog_api.kit.schemas import Page
from blog_api.users.deps import UserIdPath
from blog_api.users.schemas import Profile, UserPublic

router = PathRouter(prefix="/users/{user_id}", tags=["follows"])


@router.put(
    "/follow",
    response_model=Profile,
    summary="Follow a user (twice is still once; not yourself)",
    responses=problem_responses(401, 403, 404, 422),
)
async def follow_user(user_id: UserIdPath, me: CurrentUser, follows: FollowServiceDep) -> Profile:
    return Profile.model_validate(await follows.follow(me, user_id))


@router.delete(
    "/follow",
    response_model=Profile,
    summary="Stop following a user (not following is fine)",
    responses=problem_responses(401, 403, 404, 422),
)
async def unfollow_user(user_id: UserIdPath, me: CurrentUser, follows: FollowServiceDep) -> Profile:
    return Profile.model_validate(await follows.unfollow(me, user_id))


@router.get(
    "/followers",
    response_model=Page[UserPublic],
    summary="Who follows the user, most recent follow first, by page or by cursor",
    responses=problem_responses(404, 422),
)
async def list_followers(
    user_id: UserIdPath, follows: FollowServiceDep, window: ListWindowDep
) -> Page[UserPublic]:
    return Page[UserPublic].of(await follows.followers(user_id, window))


@router.get(
    "/following",
    response_model=Page[UserPublic],
    summary="Whom the user follows, most recent follow first, by page or by cursor",
    responses=problem_responses(404, 422),
)
async def list_following(
    user_id: UserIdPath, follows: FollowServiceDep, window: ListWindowDep
) -> Page[UserPublic]:
    return Page[UserPublic].of(await follows.following(user_id, window))
