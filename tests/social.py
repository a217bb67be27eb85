"""Helpers shared by the tests of comments, favorites, follows and the feed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

API = "/api/v1"
PUBLIC_USER_FIELDS = {"id", "username", "bio", "image", "created_at"}
PROFILE_FIELDS = PUBLIC_USER_FIELDS | {
    "posts_count",
    "followers_count",
    "following_count",
    "following",
}
COMMENT_FIELDS = {"id", "post_id", "body", "author", "created_at", "updated_at"}


async def get_post(
    client: AsyncClient, post_id: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(f"{API}/posts/{post_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_profile(
    client: AsyncClient, user_id: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(f"{API}/users/{user_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def comment(
    client: AsyncClient, post_id: int, headers: dict[str, str], body: str = "Nice post."
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/posts/{post_id}/comments", json={"body": body}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def favorite(client: AsyncClient, post_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.put(f"{API}/posts/{post_id}/favorite", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def follow(client: AsyncClient, user_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.put(f"{API}/users/{user_id}/follow", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def walk(
    client: AsyncClient,
    path: str,
    *,
    per_page: int,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every item of a list, following next_cursor from an ordinary first request."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {**(params or {}), "per_page": per_page}
    first = True
    while True:
        response = await client.get(path, params=query, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        if not first:
            assert (body["total"], body["page"], body["pages"]) == (None, None, None)
        first = False
        items.extend(body["items"])
        if body["next_cursor"] is None:
            return items
        query = {**(params or {}), "per_page": per_page, "cursor": body["next_cursor"]}


@contextmanager
def recorded_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run meanwhile, transaction control left out."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def error_locs(response: Any) -> list[list[Any]]:
    return [item["loc"] for item in response.json().get("errors", [])]
