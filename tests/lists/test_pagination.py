"""Pagination: the page object, out-of-range input, stable order, a fixed statement count."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import seed_posts


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "x"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "1.5"}, "per_page"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/posts", "/api/v1/users", "/api/v1/tags"])
async def test_out_of_range_paging_is_422(
    client: AsyncClient, path: str, params: dict[str, str], loc: str
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", loc]


async def test_empty_list_has_zero_pages(client: AsyncClient) -> None:
    page = (await client.get("/api/v1/posts")).json()
    assert page == {
        "items": [],
        "total": 0,
        "page": 1,
        "per_page": 20,
        "pages": 0,
        "next_cursor": None,
    }


async def test_page_math_and_past_the_end(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("pager")
    await seed_posts(app, user["id"], 21)
    first = (await client.get("/api/v1/posts", params={"per_page": 10})).json()
    assert (first["total"], first["pages"], len(first["items"])) == (21, 3, 10)
    last = (await client.get("/api/v1/posts", params={"per_page": 10, "page": 3})).json()
    assert len(last["items"]) == 1
    past = await client.get("/api/v1/posts", params={"per_page": 10, "page": 4})
    assert past.status_code == 200
    assert past.json() == {
        "items": [],
        "total": 21,
        "page": 4,
        "per_page": 10,
        "pages": 3,
        "next_cursor": None,
    }
    huge = await client.get("/api/v1/posts", params={"page": str(10**30)})
    assert huge.status_code == 200
    assert huge.json()["items"] == []
    max_page = (await client.get("/api/v1/posts", params={"per_page": 100})).json()
    assert len(max_page["items"]) == 21


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "title", "-title"])
async def test_walking_all_pages_returns_every_row_once(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, sort: str
) -> None:
    user = await make_user("walker")
    await seed_posts(app, user["id"], 23)
    seen: list[int] = []
    page = 1
    while True:
        body = (
            await client.get("/api/v1/posts", params={"per_page": 4, "page": page, "sort": sort})
        ).json()
        if not body["items"]:
            break
        seen.extend(p["id"] for p in body["items"])
        page += 1
    assert len(seen) == 23
    assert len(set(seen)) == 23


async def test_list_statement_count_does_not_grow_with_per_page(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, statements: list[str]
) -> None:
    user = await make_user("counter")
    await seed_posts(app, user["id"], 60, tags_per_post=3)
    counts: dict[int, int] = {}
    for per_page in (1, 10, 60):
        statements.clear()
        response = await client.get("/api/v1/posts", params={"per_page": per_page})
        assert len(response.json()["items"]) == per_page
        assert all(len(p["tags"]) == 3 for p in response.json()["items"])
        counts[per_page] = len(
            [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
        )
    assert counts[1] == counts[10] == counts[60], counts
    assert counts[1] <= 4, statements
    for per_page in (1, 60):
        statements.clear()
        response = await client.get(
            "/api/v1/users/me/posts", params={"per_page": per_page}, headers=user["headers"]
        )
        assert response.status_code == 200
        counts[per_page] = len(
            [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
        )
    assert counts[1] == counts[60] <= 5


async def test_list_never_reads_the_content_column(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, statements: list[str]
) -> None:
    user = await make_user("lean")
    await seed_posts(app, user["id"], 3)
    statements.clear()
    await client.get("/api/v1/posts")
    page_queries = [s for s in statements if "FROM posts" in s and "count(" not in s]
    assert page_queries
    assert all("posts.content" not in s.split("WHERE")[0] for s in page_queries)


async def test_tags_list_counts_published_posts_most_used_first(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("tagger")
    await make_post(user["headers"], tags=["b", "a"])
    await make_post(user["headers"], tags=["b", "c"])
    await make_post(user["headers"], tags=["c"])
    await make_post(user["headers"], tags=["z", "b"], published=False)
    await make_post(user["headers"], tags=["only-draft"], published=False)
    page = (await client.get("/api/v1/tags")).json()
    assert page["items"] == [
        {"name": "b", "post_count": 2},
        {"name": "c", "post_count": 2},
        {"name": "a", "post_count": 1},
    ]
    assert page["total"] == 3
    second = (await client.get("/api/v1/tags", params={"per_page": 2, "page": 2})).json()
    assert second["items"] == [{"name": "a", "post_count": 1}]
    assert second["pages"] == 2
