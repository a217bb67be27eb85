"""An authenticated read runs in one unit of work: the token is checked on the request's own
connection (one pool checkout for the whole GET, on either face). A write checks it in a short
unit of authentication's own, so that its transaction (on SQLite, the write lock) opens only
when the write needs it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.statements import listening


@pytest.fixture
def checkouts(engine: AsyncEngine) -> Iterator[list[int]]:
    """How many connections the app takes from its pool while the test runs (one item each)."""
    seen: list[int] = []
    with listening(engine, "checkout", lambda *_: seen.append(1)):
        yield seen


async def test_an_authenticated_read_takes_one_connection(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    checkouts: list[int],
    statements: list[str],
) -> None:
    user = await make_user("reader")
    post = await make_post(user["headers"], title="Read once")
    token = user["headers"]["Authorization"].removeprefix("Bearer ")
    realworld = {"Authorization": f"Token {token}"}
    reads = [
        ("/api/v1/posts/{id}".format(**post), user["headers"]),
        ("/api/v1/posts?per_page=5", user["headers"]),
        ("/api/v1/users/me", user["headers"]),
        ("/api/articles/{slug}".format(**post), realworld),
        ("/api/articles?limit=5", realworld),
        ("/api/user", realworld),
    ]
    for path, headers in reads:
        checkouts.clear()
        statements.clear()
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert len(checkouts) == 1, path
        # The token was checked (its session's statement), on that one connection.
        assert any("sessions" in statement for statement in statements), (path, statements)


async def test_a_read_with_an_ended_session_is_still_refused(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("leaver")
    post = await make_post(user["headers"])
    ended = await client.post("/api/v1/auth/logout-all", headers=user["headers"])
    assert ended.status_code == 204, ended.text
    response = await client.get("/api/v1/posts/{id}".format(**post), headers=user["headers"])
    assert response.status_code == 401
    token = user["headers"]["Authorization"].removeprefix("Bearer ")
    answer = await client.get("/api/user", headers={"Authorization": f"Token {token}"})
    assert answer.status_code == 401


async def test_a_write_checks_the_token_before_its_own_unit_begins(
    client: AsyncClient, make_user: UserFactory, checkouts: list[int], statements: list[str]
) -> None:
    user = await make_user("writer")
    checkouts.clear()
    statements.clear()
    body = {"title": "Written", "content": "Text.", "published": True, "tags": []}
    response = await client.post("/api/v1/posts", json=body, headers=user["headers"])
    assert response.status_code == 201, response.text
    # Authentication's unit, then the write's: the token's check is the first statement.
    assert len(checkouts) == 2
    assert "sessions" in statements[0]
