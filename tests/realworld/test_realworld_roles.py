"""Roles on the RealWorld face (API.md "Roles (v3)"): the same policy as the native face, in
RealWorld's error shape. Articles there are published, so creating one takes a role that
publishes; updating and deleting a published article, and deleting a comment, follow the
native table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient

from blog_api.roles import Role
from tests.helpers.api import API, comment
from tests.helpers.factories import RoleSetter, UserFactory
from tests.helpers.realworld import check, errors_of
from tests.helpers.roles import Cast, make_cast

C, A, E, ADMIN = Role.CONTRIBUTOR, Role.AUTHOR, Role.EDITOR, Role.ADMIN
ARTICLE = "/articles/{slug}"
COMMENT = "/articles/{slug}/comments/{id}"

# (operation, whose): {role: status}
TABLE: dict[tuple[str, str], dict[Role, int]] = {
    ("update", "own"): {C: 403, A: 200, E: 200, ADMIN: 200},
    ("update", "other"): {C: 403, A: 403, E: 200, ADMIN: 200},
    ("delete", "own"): {C: 403, A: 204, E: 204, ADMIN: 204},
    ("delete", "other"): {C: 403, A: 403, E: 204, ADMIN: 204},
    ("delete comment", "own"): {C: 204, A: 204, E: 204, ADMIN: 204},
    ("delete comment", "other"): {C: 403, A: 403, E: 204, ADMIN: 204},
}
CASES = [
    pytest.param(operation, whose, role, status, id=f"{role}-{operation}-{whose}")
    for (operation, whose), statuses in TABLE.items()
    for role, status in statuses.items()
]


@pytest.fixture
async def cast_of(
    client: AsyncClient, make_user: UserFactory, set_role: RoleSetter
) -> Callable[[Role], Awaitable[Cast]]:
    async def make(role: Role) -> Cast:
        return await make_cast(client, make_user, set_role, role)

    return make


@pytest.mark.parametrize(
    ("role", "status"), [(C, 403), (A, 201), (E, 201), (ADMIN, 201)], ids=[r.value for r in Role]
)
async def test_creating_an_article_publishes_it_so_it_takes_a_role_that_publishes(
    cast_of: Callable[[Role], Awaitable[Cast]], role: Role, status: int
) -> None:
    cast = await cast_of(role)
    article = {"title": "Hello", "description": "d", "body": "b", "tagList": ["fresh"]}
    response = await cast.client.post(
        "/api/articles", json={"article": article}, headers=cast.caller["headers"]
    )
    listed = (await cast.client.get("/api/articles")).json()
    if status == 403:
        assert errors_of(response, "/articles", 403) == {"article": ["forbidden"]}
        assert listed["articlesCount"] == 0
        assert (await cast.client.get("/api/tags")).json()["tags"] == []
        return
    assert check(response, "/articles", 201)["article"]["title"] == "Hello"
    assert listed["articlesCount"] == 1


@pytest.mark.parametrize(("operation", "whose", "role", "status"), CASES)
async def test_the_roles_table_on_the_realworld_face(
    cast_of: Callable[[Role], Awaitable[Cast]],
    make_user: UserFactory,
    operation: str,
    whose: str,
    role: Role,
    status: int,
) -> None:
    cast = await cast_of(role)
    post = await cast.post(whose, published=True, title="Original")
    headers = cast.caller["headers"]
    url = f"/api/articles/{post['slug']}"
    if operation == "update":
        body = {"article": {"title": "Changed"}}
        response = await cast.client.put(url, json=body, headers=headers)
    elif operation == "delete":
        response = await cast.client.delete(url, headers=headers)
    else:
        commenter = await make_user("commenter")
        written = await comment(cast.client, post["id"], commenter["headers"])
        response = await cast.client.delete(f"{url}/comments/{written['id']}", headers=headers)
    stored = await cast.stored(post["id"])
    comments = await cast.client.get(f"{API}/posts/{post['id']}/comments")
    if status == 403:
        resource = "comment" if operation == "delete comment" else "article"
        template = COMMENT if resource == "comment" else ARTICLE
        assert errors_of(response, template, 403) == {resource: ["forbidden"]}
        assert stored is not None
        assert (stored["title"], stored["updated_at"]) == ("Original", post["updated_at"])
        if operation == "delete comment":
            assert comments.json()["total"] == 1
        return
    template = COMMENT if operation == "delete comment" else ARTICLE
    check(response, template, status)
    if operation == "update":
        assert stored is not None
        assert stored["title"] == "Changed"
    elif operation == "delete":
        assert stored is None
    else:
        assert comments.json()["total"] == 0


async def test_the_document_lists_the_403_of_creating_an_article(client: AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    assert "403" in document["paths"]["/articles"]["post"]["responses"]
