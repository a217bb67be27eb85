"""Cursor mode (keyset pagination) and the database-kept total."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import SORTS, forge, seed_posts, walk


@pytest.mark.parametrize("sort", SORTS)
async def test_cursor_walk_returns_every_row_once_with_shared_timestamps(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, sort: str
) -> None:
    user = await make_user("keyset")
    await seed_posts(app, user["id"], 23)
    items = await walk(client, "/api/v1/posts", per_page=5, params={"sort": sort})
    ids = [p["id"] for p in items]
    assert len(ids) == 23
    assert len(set(ids)) == 23
    paged: list[int] = []
    for page in range(1, 6):
        body = (
            await client.get("/api/v1/posts", params={"per_page": 5, "sort": sort, "page": page})
        ).json()
        paged.extend(p["id"] for p in body["items"])
    assert paged == ids, "cursor mode and page mode agree on the order"


async def test_page_mode_answers_carry_next_cursor(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("nexter")
    for i in range(3):
        await make_post(user["headers"], title=f"p{i}")
    first = (await client.get("/api/v1/posts", params={"per_page": 2})).json()
    assert first["total"] == 3
    assert first["next_cursor"] is not None
    rest = (
        await client.get("/api/v1/posts", params={"per_page": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [p["title"] for p in rest["items"]] == ["p0"]
    assert rest["next_cursor"] is None
    last = (await client.get("/api/v1/posts", params={"per_page": 2, "page": 2})).json()
    assert last["next_cursor"] is None
    exact = (await client.get("/api/v1/posts", params={"per_page": 3})).json()
    assert exact["next_cursor"] is None


async def test_cursor_walk_with_filters(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("filterwalk")
    for i in range(7):
        await make_post(user["headers"], title=f"tagged {i}", tags=["walk"] if i % 2 else [])
    items = await walk(client, "/api/v1/posts", per_page=2, params={"tag": "walk", "q": "tagged"})
    assert sorted(p["title"] for p in items) == ["tagged 1", "tagged 3", "tagged 5"]


async def test_my_posts_cursor_walk_includes_drafts(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("mywalk")
    for i in range(5):
        await make_post(user["headers"], title=f"m{i}", published=i % 2 == 0)
    items = await walk(client, "/api/v1/users/me/posts", per_page=2, headers=user["headers"])
    assert [p["title"] for p in items] == ["m4", "m3", "m2", "m1", "m0"]


async def test_cursor_walk_is_exact_while_posts_are_published(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("livewalk")
    before = [await make_post(user["headers"], title=f"old {i}") for i in range(9)]
    seen: list[int] = []
    body = (await client.get("/api/v1/posts", params={"per_page": 3})).json()
    seen.extend(p["id"] for p in body["items"])
    while body["next_cursor"]:
        # New posts arrive between pages, as they do on a live site.
        await make_post(user["headers"], title="fresh")
        body = (
            await client.get("/api/v1/posts", params={"per_page": 3, "cursor": body["next_cursor"]})
        ).json()
        seen.extend(p["id"] for p in body["items"])
    assert sorted(seen) == sorted(p["id"] for p in before)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!!",
        "e30",  # {}
        forge({"s": "-created_at"}),
        forge({"s": "-created_at", "k": ["yesterday", 1]}),
        forge({"s": "-created_at", "k": ["2026-01-01T00:00:00", 1]}),  # no time zone
        forge({"s": "-created_at", "k": ["2026-01-01T00:00:00Z", "1"]}),
        forge({"s": "-created_at", "k": ["2026-01-01T00:00:00Z", 2**40]}),
        forge({"s": "-created_at", "k": ["2026-01-01T00:00:00Z", True]}),
        forge({"s": "-created_at", "k": [5, 1]}),
        forge(["-created_at", 1]),
        forge({"s": "title", "k": ["a", 1]}),  # made for another sort
        "x" * 1025,
    ],
)
async def test_bad_cursor_is_422(client: AsyncClient, cursor: str) -> None:
    response = await client.get("/api/v1/posts", params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_cursor_from_another_sort_is_422(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("sorts")
    for i in range(3):
        await make_post(user["headers"], title=f"s{i}")
    cursor = (await client.get("/api/v1/posts", params={"per_page": 1, "sort": "title"})).json()[
        "next_cursor"
    ]
    assert (
        await client.get("/api/v1/posts", params={"cursor": cursor, "sort": "title"})
    ).status_code == 200
    other = await client.get("/api/v1/posts", params={"cursor": cursor})
    assert other.status_code == 422
    assert "sort" in other.json()["detail"]


async def test_page_and_cursor_together_is_422(client: AsyncClient) -> None:
    response = await client.get("/api/v1/posts", params={"page": 1, "cursor": "abc"})
    assert response.status_code == 422


async def test_total_stays_exact_through_every_change(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, superuser: dict[str, Any]
) -> None:
    async def total() -> int:
        value: int = (await client.get("/api/v1/posts")).json()["total"]
        return value

    ann = await make_user("ann_total")
    bob = await make_user("bob_total")
    assert await total() == 0
    a1 = await make_post(ann["headers"], published=True)
    await make_post(ann["headers"], published=True)
    draft = await make_post(ann["headers"], published=False)
    await make_post(bob["headers"], published=True)
    assert await total() == 3
    await client.patch(
        f"/api/v1/posts/{draft['id']}", headers=ann["headers"], json={"published": True}
    )
    assert await total() == 4
    await client.patch(
        f"/api/v1/posts/{a1['id']}", headers=ann["headers"], json={"published": False}
    )
    assert await total() == 3
    await client.patch(
        f"/api/v1/posts/{a1['id']}", headers=ann["headers"], json={"title": "same state"}
    )
    assert await total() == 3
    await client.delete(f"/api/v1/posts/{draft['id']}", headers=ann["headers"])
    assert await total() == 2
    # Deleting a user removes their posts by cascade; the count follows.
    await client.delete(f"/api/v1/users/{bob['id']}", headers=superuser["headers"])
    assert await total() == 1
    # A failed request changes nothing, counter included.
    bad = await client.post(
        "/api/v1/posts",
        headers=ann["headers"],
        json={"title": "", "content": "c", "published": True},
    )
    assert bad.status_code == 422
    assert await total() == 1
    listed = (await client.get("/api/v1/posts", params={"per_page": 100})).json()
    assert len(listed["items"]) == await total()


async def test_total_stays_exact_under_racing_publishes(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("racecount")
    creates = [
        client.post(
            "/api/v1/posts",
            headers=user["headers"],
            json={"title": f"r{i}", "content": "c", "published": i % 3 != 0, "tags": ["count"]},
        )
        for i in range(12)
    ]
    responses = await asyncio.gather(*creates)
    assert all(r.status_code == 201 for r in responses)
    ids = [r.json()["id"] for r in responses]
    flips = [
        client.patch(
            f"/api/v1/posts/{pid}", headers=user["headers"], json={"published": i % 2 == 0}
        )
        for i, pid in enumerate(ids)
    ]
    assert all(r.status_code == 200 for r in await asyncio.gather(*flips))
    body = (await client.get("/api/v1/posts", params={"per_page": 100})).json()
    assert body["total"] == len(body["items"]) == 6


async def test_tag_counts_stay_exact_through_every_change(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, superuser: dict[str, Any]
) -> None:
    """GET /tags reads counts kept by triggers: check them against the posts themselves."""

    async def counts() -> dict[str, int]:
        items = (await client.get("/api/v1/tags", params={"per_page": 100})).json()["items"]
        return {t["name"]: t["post_count"] for t in items}

    async def truth() -> dict[str, int]:
        posts = (await client.get("/api/v1/posts", params={"per_page": 100})).json()["items"]
        expected: dict[str, int] = {}
        for post in posts:
            for name in post["tags"]:
                expected[name] = expected.get(name, 0) + 1
        return expected

    ann = await make_user("ann_tags")
    bob = await make_user("bob_tags")
    a1 = await make_post(ann["headers"], tags=["x", "y"])
    a2 = await make_post(ann["headers"], tags=["y"], published=False)
    b1 = await make_post(bob["headers"], tags=["x", "z"])
    assert await counts() == await truth() == {"x": 2, "y": 1, "z": 1}
    steps = [
        (a2["id"], ann, {"published": True}),
        (a1["id"], ann, {"tags": ["y", "w"]}),  # retagged while published
        (a1["id"], ann, {"published": False}),
        (a1["id"], ann, {"published": True, "tags": ["v"]}),  # both at once
        (a2["id"], ann, {"tags": []}),
    ]
    for post_id, who, change in steps:
        response = await client.patch(
            f"/api/v1/posts/{post_id}", headers=who["headers"], json=change
        )
        assert response.status_code == 200
        assert await counts() == await truth(), change
    await client.delete(f"/api/v1/posts/{a1['id']}", headers=ann["headers"])
    assert await counts() == await truth()
    # A user's deletion removes posts and links by cascade: counted once, not twice.
    await client.delete(f"/api/v1/users/{bob['id']}", headers=superuser["headers"])
    assert await counts() == await truth()
    assert b1["id"] not in [p["id"] for p in (await client.get("/api/v1/posts")).json()["items"]]
    # Racing changes keep them exact too.
    posts = [await make_post(ann["headers"], tags=["race", f"r{i}"]) for i in range(6)]
    await asyncio.gather(
        *(
            client.patch(
                f"/api/v1/posts/{p['id']}",
                headers=ann["headers"],
                json={"published": i % 2 == 0, "tags": ["race", "again"]},
            )
            for i, p in enumerate(posts)
        )
    )
    assert await counts() == await truth()
