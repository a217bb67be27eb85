"""Roles on accounts (API.md "Roles (v3)"): every user has one, shown on UserPrivate and
Profile; registration gives DEFAULT_ROLE; only an admin changes a role (anyone else sending
`role` gets a 403, and nothing is written); `is_superuser` is true exactly for admins."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from blog_api.config import Settings
from blog_api.main import create_app
from blog_api.roles import Role
from tests.helpers.api import API
from tests.helpers.factories import PASSWORD, RoleSetter, UserFactory, auth_headers
from tests.helpers.statements import recorded_statements


async def me(client: AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"{API}/users/me", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_registration_gives_the_default_role_author(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("newcomer", role="admin", is_superuser=True)  # ignored on input
    assert (user["role"], user["is_superuser"]) == ("author", False)
    assert (await me(client, user["headers"]))["role"] == "author"
    profile = (await client.get(f"{API}/users/{user['id']}")).json()
    assert profile["role"] == "author"


async def test_default_role_is_a_setting(settings: Settings, app: FastAPI) -> None:
    other = create_app(settings.model_copy(update={"default_role": Role.CONTRIBUTOR}))
    try:
        async with AsyncClient(transport=ASGITransport(app=other), base_url="http://t") as c:
            body = {"email": "c@example.com", "username": "newbie", "password": PASSWORD}
            response = await c.post(f"{API}/users", json=body)
            assert response.status_code == 201, response.text
            assert response.json()["role"] == "contributor"
            assert (await me(c, await auth_headers(c, "newbie")))["role"] == "contributor"
            # The RealWorld face registers through the same service.
            rw = {"user": {"email": "d@example.com", "username": "rwnewbie", "password": PASSWORD}}
            assert (await c.post("/api/users", json=rw)).status_code == 201
            login = await auth_headers(c, "rwnewbie")
            assert (await me(c, login))["role"] == "contributor"
    finally:
        await other.state.engine.dispose()


def test_default_role_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_ROLE", "editor")
    assert Settings(_env_file=None, environment="test").default_role is Role.EDITOR
    monkeypatch.setenv("DEFAULT_ROLE", "superhero")
    with pytest.raises(ValidationError, match="default_role"):
        Settings(_env_file=None, environment="test")
    monkeypatch.delenv("DEFAULT_ROLE")
    assert Settings(_env_file=None, environment="test").default_role is Role.AUTHOR


@pytest.mark.parametrize("role", list(Role))
async def test_an_admin_changes_a_role(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, Any], role: Role
) -> None:
    user = await make_user("promoted")
    response = await client.patch(
        f"{API}/users/{user['id']}", json={"role": role.value}, headers=superuser["headers"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == role.value
    assert response.json()["is_superuser"] is (role is Role.ADMIN)
    now = await me(client, user["headers"])
    assert (now["role"], now["is_superuser"]) == (role.value, role is Role.ADMIN)
    assert (await client.get(f"{API}/users/{user['id']}")).json()["role"] == role.value


async def test_a_promoted_admin_has_the_admins_powers_and_a_demoted_one_loses_them(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, Any]
) -> None:
    user, target = await make_user("promoted"), await make_user("target")
    deactivate = {"is_active": False}
    url = f"{API}/users/{target['id']}"
    assert (await client.patch(url, json=deactivate, headers=user["headers"])).status_code == 403
    admin = {"role": "admin"}
    promote = await client.patch(
        f"{API}/users/{user['id']}", json=admin, headers=superuser["headers"]
    )
    assert promote.status_code == 200
    assert (await client.patch(url, json=deactivate, headers=user["headers"])).status_code == 200
    editor = {"role": "editor"}
    demote = await client.patch(
        f"{API}/users/{user['id']}", json=editor, headers=superuser["headers"]
    )
    assert (demote.status_code, demote.json()["is_superuser"]) == (200, False)
    activate = {"is_active": True}
    assert (await client.patch(url, json=activate, headers=user["headers"])).status_code == 403


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUTHOR, Role.EDITOR])
async def test_anyone_but_an_admin_sending_role_gets_403_and_nothing_is_written(
    client: AsyncClient, make_user: UserFactory, set_role: RoleSetter, role: Role
) -> None:
    caller, other = await make_user("caller"), await make_user("other")
    await set_role(caller["id"], role)
    headers = caller["headers"]
    for url in (f"{API}/users/me", f"{API}/users/{caller['id']}"):
        for wanted in ("admin", "editor", role.value):
            response = await client.patch(url, json={"role": wanted, "bio": "new"}, headers=headers)
            assert response.status_code == 403, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "admin" in response.json()["detail"]
    response = await client.patch(
        f"{API}/users/{other['id']}", json={"role": "contributor"}, headers=headers
    )
    assert response.status_code == 403
    mine = await me(client, headers)
    assert (mine["role"], mine["bio"]) == (role.value, None)
    assert (await me(client, other["headers"]))["role"] == "author"


async def test_role_values_are_checked(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, Any]
) -> None:
    user = await make_user("target")
    url = f"{API}/users/{user['id']}"
    for bad in ("superhero", "Admin", None, 1, ""):
        response = await client.patch(url, json={"role": bad}, headers=superuser["headers"])
        assert response.status_code == 422, (bad, response.text)
    assert (await me(client, user["headers"]))["role"] == "author"


async def test_the_superuser_is_an_admin(client: AsyncClient, superuser: dict[str, Any]) -> None:
    root = await me(client, superuser["headers"])
    assert (root["role"], root["is_superuser"]) == ("admin", True)


async def test_a_profile_with_its_role_is_still_one_statement(
    client: AsyncClient, make_user: UserFactory, engine: AsyncEngine
) -> None:
    user = await make_user("counted")
    with recorded_statements(engine) as seen:
        response = await client.get(f"{API}/users/{user['id']}")
    assert response.json()["role"] == "author"
    assert len(seen) == 1, seen


async def test_the_document_says_what_roles_are_and_lists_the_403s(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    role = next(s for name, s in schemas.items() if name == "Role")
    assert role["enum"] == ["contributor", "author", "editor", "admin"]
    for shape in ("UserPrivate", "Profile"):
        assert schemas[shape]["properties"]["role"] == {
            "$ref": "#/components/schemas/Role",
            "description": schemas[shape]["properties"]["role"]["description"],
        }
        assert "role" in schemas[shape]["required"]
    assert "role" in schemas["UserUpdate"]["properties"]
    paths = document["paths"]
    for method, path in [
        ("post", f"{API}/posts"),
        ("patch", f"{API}/posts/{{post_id}}"),
        ("delete", f"{API}/posts/{{post_id}}"),
        ("delete", f"{API}/posts/{{post_id}}/comments/{{comment_id}}"),
        ("patch", f"{API}/users/{{user_id}}"),
        ("patch", f"{API}/users/me"),
    ]:
        assert "403" in paths[path][method]["responses"], (method, path)
