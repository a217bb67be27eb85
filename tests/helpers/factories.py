"""Accounts and posts made over HTTP: the password every test user has, the types of the
`make_user` and `make_post` fixtures (tests/conftest.py), and a login's bearer headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from httpx import AsyncClient

from blog_api.roles import Role

PASSWORD = "correct horse battery"

UserFactory = Callable[..., Awaitable[dict[str, Any]]]
PostFactory = Callable[..., Awaitable[dict[str, Any]]]
# set_role(user_id, role): the `set_role` fixture.
RoleSetter = Callable[[int, Role], Awaitable[None]]


async def auth_headers(client: AsyncClient, login: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": login, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
