"""RealWorld: profiles (native users, by username) and follows."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from blog_api.follows.deps import FollowServiceDep
from blog_api.kit.errors import InvalidInputError
from blog_api.kit.routing import PathRouter
from blog_api.realworld.bodies import ProfileResponseBody
from blog_api.realworld.convert import profile_body
from blog_api.realworld.deps import CurrentCaller, OptionalCaller, viewer
from blog_api.realworld.errors import RealWorldRoute, about, error
from blog_api.realworld.openapi import responses
from blog_api.realworld.schemas import ProfileResponse
from blog_api.users.deps import UserServiceDep
from blog_api.users.views import ProfileView

router = PathRouter(route_class=RealWorldRoute, tags=["Profile"])

UsernamePath = Annotated[str, Path(description="Username of the profile")]
# Whether a username is the caller's own is nothing a schema can say: the 422 says it.
FOLLOWING_YOURSELF = 'Following yourself (`username: ["You cannot follow yourself"]`)'


def one_profile(profile: ProfileView) -> ProfileResponseBody:
    """A ProfileResponse: the profile as the caller sees it (whether they follow it)."""
    return {"profile": profile_body(profile, following=profile.following)}


@router.get(
    "/profiles/{username}",
    operation_id="GetProfileByUsername",
    summary="Get a profile",
    description="Get a profile of a user of the system. Auth is optional",
    response_model=ProfileResponse,
    responses=responses(401, 404, 422),
)
async def get_profile(
    username: UsernamePath, caller: OptionalCaller, users: UserServiceDep
) -> ProfileResponseBody:
    with about("profile"):
        profile = await users.profile_by_username(viewer(caller), username)
    return one_profile(profile)


@router.post(
    "/profiles/{username}/follow",
    operation_id="FollowUserByUsername",
    summary="Follow a user",
    description="Follow a user by username",
    response_model=ProfileResponse,
    responses=responses(401, 404, 422, descriptions={422: FOLLOWING_YOURSELF}),
)
async def follow(
    username: UsernamePath,
    caller: CurrentCaller,
    users: UserServiceDep,
    follows: FollowServiceDep,
) -> ProfileResponseBody:
    """Following twice is following once; following oneself is a 422."""
    with about("profile"):
        user = await users.profile_by_username(caller.user, username)
        try:
            profile = await follows.follow(caller.user, user.id)
        except InvalidInputError as exc:
            raise error(422, "username", exc.detail) from None
    return one_profile(profile)


@router.delete(
    "/profiles/{username}/follow",
    operation_id="UnfollowUserByUsername",
    summary="Unfollow a user",
    description="Unfollow a user by username",
    response_model=ProfileResponse,
    responses=responses(401, 404, 422),
)
async def unfollow(
    username: UsernamePath,
    caller: CurrentCaller,
    users: UserServiceDep,
    follows: FollowServiceDep,
) -> ProfileResponseBody:
    with about("profile"):
        user = await users.profile_by_username(caller.user, username)
        profile = await follows.unfollow(caller.user, user.id)
    return one_profile(profile)
