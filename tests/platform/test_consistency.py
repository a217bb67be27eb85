"""A 2xx means committed; racing requests never give a 500."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from blog_api.models import User
from tests.helpers.factories import PASSWORD


@contextmanager
def commits_fail() -> Iterator[None]:
    """Every commit fails, as when the database goes away between the work and the commit."""

    def fail(session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("connection lost during commit"))

    event.listen(Session, "before_commit", fail)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", fail)


@pytest.fixture
def failing_commit() -> Iterator[None]:
    with commits_fail():
        yield


@pytest.fixture
def failing_commit_factory() -> Any:
    return commits_fail


async def count_rows(app: FastAPI) -> int:
    async with app.state.session_factory() as session:
        total: int = await session.scalar(select(func.count()).select_from(User))
        return total


async def test_failed_commit_is_never_a_2xx_and_leaves_nothing(
    app: FastAPI, client: AsyncClient, failing_commit: None
) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "c@example.com", "username": "commit", "password": PASSWORD}
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "connection lost" not in response.text
    assert await count_rows(app) == 0


async def test_racing_registrations_of_one_email_give_one_201(
    app: FastAPI, client: AsyncClient
) -> None:
    n = 10

    async def register(i: int) -> Any:
        return await client.post(
            "/api/v1/users",
            json={"email": "race@example.com", "username": f"racer{i}", "password": PASSWORD},
        )

    responses = await asyncio.gather(*(register(i) for i in range(n)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: n - 1}, [r.text for r in responses]
    assert all("email" in r.json()["detail"] for r in responses if r.status_code == 409)
    assert await count_rows(app) == 1


async def test_racing_registrations_of_one_username_give_one_201(
    app: FastAPI, client: AsyncClient
) -> None:
    n = 8

    async def register(i: int) -> Any:
        return await client.post(
            "/api/v1/users",
            json={
                "email": f"r{i}@example.com",
                "username": "SameName" if i % 2 else "samename",
                "password": PASSWORD,
            },
        )

    responses = await asyncio.gather(*(register(i) for i in range(n)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: n - 1}, [r.text for r in responses]
    assert await count_rows(app) == 1


async def test_racing_logins_and_reads_all_succeed(client: AsyncClient, make_user: Any) -> None:
    await make_user("busy")
    logins = [
        client.post("/api/v1/auth/token", data={"username": "busy", "password": PASSWORD})
        for _ in range(8)
    ]
    reads = [client.get("/api/v1/users") for _ in range(8)]
    responses = await asyncio.gather(*logins, *reads)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]


async def test_simultaneous_posts_with_one_title_and_new_tag_all_succeed(
    client: AsyncClient, make_user: Any
) -> None:
    user = await make_user("racer")
    n = 10
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/posts",
                headers=user["headers"],
                json={
                    "title": "Breaking News",
                    "content": "c",
                    "tags": ["brand-new", f"own{i}"],
                    "published": True,
                },
            )
            for i in range(n)
        )
    )
    assert [r.status_code for r in responses] == [201] * n, [r.text for r in responses]
    slugs = {r.json()["slug"] for r in responses}
    assert len(slugs) == n
    assert "breaking-news" in slugs
    tags = (await client.get("/api/v1/tags", params={"per_page": 100})).json()["items"]
    assert {"name": "brand-new", "post_count": n} in tags


async def test_simultaneous_edits_setting_the_same_tags_never_500(
    client: AsyncClient, make_user: Any
) -> None:
    user = await make_user("editor")
    post = (
        await client.post(
            "/api/v1/posts", headers=user["headers"], json={"title": "t", "content": "c"}
        )
    ).json()
    responses = await asyncio.gather(
        *(
            client.patch(
                f"/api/v1/posts/{post['id']}",
                headers=user["headers"],
                json={"tags": ["x", "y", f"z{i}"]},
            )
            for i in range(6)
        )
    )
    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    assert 200 in {r.status_code for r in responses}


async def test_a_post_is_never_stored_without_its_tags(
    app: FastAPI, client: AsyncClient, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user("halfway")

    from blog_api.posts.repository import PostRepository

    async def broken_add(self: Any, obj: Any) -> Any:
        self.session.add(obj)
        await self.session.flush()  # the post and its tags are written...
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))  # ...then a step fails

    monkeypatch.setattr(PostRepository, "add", broken_add)
    response = await client.post(
        "/api/v1/posts",
        headers=user["headers"],
        json={"title": "t", "content": "c", "tags": ["orphan"]},
    )
    assert response.status_code == 500
    monkeypatch.undo()
    mine = await client.get("/api/v1/users/me/posts", headers=user["headers"])
    assert mine.json()["total"] == 0
    async with app.state.session_factory() as session:
        from blog_api.models import Tag

        assert await session.scalar(select(func.count()).select_from(Tag)) == 0


async def test_failed_commit_of_a_post_leaves_nothing(
    app: FastAPI, client: AsyncClient, make_user: Any, failing_commit_factory: Any
) -> None:
    user = await make_user("unlucky")
    with failing_commit_factory():
        response = await client.post(
            "/api/v1/posts",
            headers=user["headers"],
            json={"title": "t", "content": "c", "tags": ["a"]},
        )
    assert response.status_code == 500
    assert (await client.get("/api/v1/users/me/posts", headers=user["headers"])).json()[
        "total"
    ] == 0
