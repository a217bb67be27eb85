from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from blog_api.api.deps import CurrentUser, UserIdPath, UserServiceDep
from blog_api.api.pagination import PageParamsDep
from blog_api.api.problems import problem_responses
from blog_api.models import User
from blog_api.schemas.common import Page
from blog_api.schemas.users import UserCreate, UserPrivate, UserPublic, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPrivate,
    summary="Register",
    responses=problem_responses(409, 422),
)
async def create_user(
    data: UserCreate, users: UserServiceDep, request: Request, response: Response
) -> User:
    user = await users.register(data)
    response.headers["Location"] = request.app.url_path_for("get_user", user_id=str(user.id))
    return user


@router.get("", response_model=Page[UserPublic], summary="List users, newest first")
async def list_users(users: UserServiceDep, paging: PageParamsDep) -> dict[str, Any]:
    items, total = await users.list_newest(page=paging.page, per_page=paging.per_page)
    return paging.body(items, total)


@router.get("/me", response_model=UserPrivate, responses=problem_responses(401, 403))
async def read_me(me: CurrentUser) -> User:
    return me


@router.patch("/me", response_model=UserPrivate, responses=problem_responses(401, 403, 409, 422))
async def update_me(data: UserUpdate, me: CurrentUser, users: UserServiceDep) -> User:
    return await users.update(me, me.id, data)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 403))
async def delete_me(me: CurrentUser, users: UserServiceDep) -> None:
    await users.delete(me, me.id)


@router.get("/{user_id}", response_model=UserPublic, responses=problem_responses(404, 422))
async def get_user(user_id: UserIdPath, users: UserServiceDep) -> User:
    return await users.get(user_id)


@router.patch(
    "/{user_id}",
    response_model=UserPrivate,
    summary="Change a user (themself, or anyone for a superuser)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_user(
    user_id: UserIdPath, data: UserUpdate, me: CurrentUser, users: UserServiceDep
) -> User:
    return await users.update(me, user_id, data)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user (themself, or anyone for a superuser); their posts go with them",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_user(user_id: UserIdPath, me: CurrentUser, users: UserServiceDep) -> None:
    await users.delete(me, user_id)
