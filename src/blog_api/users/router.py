from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response, status

from blog_api.auth.deps import CallerSession, CurrentUser, OptionalUser
from blog_api.kit.deps import NO_STORE, RATE_LIMITED, client_address
from blog_api.kit.openapi import problem_responses
from blog_api.kit.pagination import ListWindowDep
from blog_api.kit.routing import PathRouter
from blog_api.kit.schemas import Page
from blog_api.models import User
from blog_api.users.deps import UserIdPath, UserServiceDep
from blog_api.users.schemas import Profile, UserCreate, UserPrivate, UserPublic, UserUpdate

router = PathRouter(prefix="/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPrivate,
    dependencies=[NO_STORE, RATE_LIMITED],
    summary="Register",
    responses=problem_responses(409, 422, 429),
)
async def create_user(
    data: UserCreate,
    users: UserServiceDep,
    request: Request,
    response: Response,
) -> User:
    user = await users.register(data, address=client_address(request))
    response.headers["Location"] = request.app.url_path_for("get_user", user_id=str(user.id))
    return user


@router.get(
    "",
    response_model=Page[UserPublic],
    summary="List users, newest first, by page or by cursor",
    responses=problem_responses(422),
)
async def list_users(users: UserServiceDep, window: ListWindowDep) -> Page[UserPublic]:
    return Page[UserPublic].of(await users.list_public(window))


@router.get(
    "/me",
    response_model=UserPrivate,
    dependencies=[NO_STORE],
    summary="Your account, email included",
    responses=problem_responses(401, 403),
)
async def get_me(me: CurrentUser) -> User:
    return me


@router.patch(
    "/me",
    response_model=UserPrivate,
    dependencies=[NO_STORE, RATE_LIMITED],
    summary="Change your account (current_password to change the email or the password)",
    description="A new password ends every other session of yours, access tokens included; "
    "the session that made the change goes on.",
    responses=problem_responses(401, 403, 409, 422, 429),
)
async def update_me(
    data: UserUpdate,
    me: CurrentUser,
    session: CallerSession,
    users: UserServiceDep,
) -> User:
    return await users.update(me, me.id, data, caller_session=session)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete your account; your posts go with it",
    responses=problem_responses(401, 403),
)
async def delete_me(me: CurrentUser, users: UserServiceDep) -> None:
    await users.delete(me, me.id)


@router.get(
    "/by-username/{username}",
    response_model=Profile,
    summary="A user's profile by username (ignoring case)",
    responses=problem_responses(404),
)
async def get_user_by_username(
    username: Annotated[str, Path(max_length=64)], viewer: OptionalUser, users: UserServiceDep
) -> Profile:
    return Profile.model_validate(await users.profile_by_username(viewer, username))


@router.get(
    "/{user_id}",
    response_model=Profile,
    summary="A user's profile: counts, and whether you follow them",
    responses=problem_responses(404, 422),
)
async def get_user(user_id: UserIdPath, viewer: OptionalUser, users: UserServiceDep) -> Profile:
    return Profile.model_validate(await users.profile(viewer, user_id))


@router.patch(
    "/{user_id}",
    response_model=UserPrivate,
    dependencies=[NO_STORE, RATE_LIMITED],
    summary="Change a user (themself, or anyone for an admin)",
    description="Only an admin changes `role` and `is_active` (anyone else sending them gets a "
    "403, and nothing is written). A new password ends the user's sessions, access tokens "
    "included, but the caller's own when they change their own password.",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def update_user(
    user_id: UserIdPath,
    data: UserUpdate,
    me: CurrentUser,
    session: CallerSession,
    users: UserServiceDep,
) -> User:
    return await users.update(me, user_id, data, caller_session=session)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user (themself, or anyone for an admin); their posts go with them",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_user(user_id: UserIdPath, me: CurrentUser, users: UserServiceDep) -> None:
    await users.delete(me, user_id)
