"""GET /feed: published posts by the users the caller follows, newest publication first."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers.api import API, error_locs, favorite, follow
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import walk
from tests.helpers.statements import recorded_statements

FEED = f"{API}/feed"


async def test_feed_needs_a_token(client: AsyncClient) -> None:
    response = await client.get(FEED)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_feed_of_someone_who_follows_nobody_is_empty(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    await make_post(writer["headers"])
    await make_post(reader["headers"], title="mine")
    page = (await client.get(FEED, headers=reader["headers"])).json()
    assert page == {
        "items": [],
        "total": 0,
        "page": 1,
        "per_page": 20,
        "pages": 0,
        "next_cursor": None,
    }


async def test_feed_shows_published_posts_of_followed_users_newest_first(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    a = await make_user("alice")
    b = await make_user("bob")
    c = await make_user("carol")
    reader = await make_user("reader")
    await follow(client, a["id"], reader["headers"])
    await follow(client, b["id"], reader["headers"])
    a1 = await make_post(a["headers"], title="a1")
    c1 = await make_post(c["headers"], title="c1")
    b_draft = await make_post(b["headers"], title="b draft", published=False)
    b1 = await make_post(b["headers"], title="b1", tags=["x"])
    await make_post(reader["headers"], title="own post")
    a2 = await make_post(a["headers"], title="a2")
    page = (await client.get(FEED, headers=reader["headers"])).json()
    assert [p["id"] for p in page["items"]] == [a2["id"], b1["id"], a1["id"]]
    assert (page["total"], page["page"], page["pages"]) == (3, 1, 1)
    item = page["items"][1]
    assert "content" not in item
    assert item["excerpt"] == b1["content"][:200]
    assert item["tags"] == ["x"]
    assert item["author"]["username"] == "bob"
    assert item["published_at"] is not None
    # Publishing an old draft puts it on top.
    response = await client.patch(
        f"{API}/posts/{b_draft['id']}", json={"published": True}, headers=b["headers"]
    )
    assert response.status_code == 200
    page = (await client.get(FEED, headers=reader["headers"])).json()
    assert [p["id"] for p in page["items"]][:2] == [b_draft["id"], a2["id"]]
    # Unfollowing takes the user's posts out.
    await client.delete(f"{API}/users/{a['id']}/follow", headers=reader["headers"])
    page = (await client.get(FEED, headers=reader["headers"])).json()
    assert [p["id"] for p in page["items"]] == [b_draft["id"], b1["id"]]
    assert c1["id"] not in {p["id"] for p in page["items"]}


async def test_feed_items_say_whether_the_caller_favorited_them(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    await follow(client, writer["id"], reader["headers"])
    liked = await make_post(writer["headers"], title="liked")
    await make_post(writer["headers"], title="meh")
    await favorite(client, liked["id"], reader["headers"])
    await favorite(client, liked["id"], writer["headers"])
    items = (await client.get(FEED, headers=reader["headers"])).json()["items"]
    flags = {p["title"]: (p["favorited"], p["favorites_count"]) for p in items}
    assert flags == {"liked": (True, 2), "meh": (False, 0)}


async def test_feed_page_and_cursor_walks(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writers = [await make_user(f"writer{i}") for i in range(3)]
    reader = await make_user("reader")
    for writer in writers:
        await follow(client, writer["id"], reader["headers"])
    posts: list[dict[str, Any]] = []
    for i in range(8):
        posts.append(await make_post(writers[i % 3]["headers"], title=f"p{i}"))
    newest_first = [p["id"] for p in reversed(posts)]
    seen: list[int] = []
    for page in (1, 2, 3):
        body = (
            await client.get(FEED, params={"per_page": 3, "page": page}, headers=reader["headers"])
        ).json()
        assert (body["total"], body["pages"]) == (8, 3)
        seen.extend(p["id"] for p in body["items"])
    assert seen == newest_first
    walked = await walk(client, FEED, per_page=3, headers=reader["headers"])
    assert [p["id"] for p in walked] == newest_first


async def test_feed_cursor_walk_sees_new_posts_once(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    await follow(client, writer["id"], reader["headers"])
    for i in range(4):
        await make_post(writer["headers"], title=f"old{i}")
    first = (await client.get(FEED, params={"per_page": 2}, headers=reader["headers"])).json()
    await make_post(writer["headers"], title="new")  # lands above the walk: not repeated
    rest = await walk(
        client,
        FEED,
        per_page=2,
        headers=reader["headers"],
        params={"cursor": first["next_cursor"]},
    )
    titles = [p["title"] for p in first["items"] + rest]
    assert titles == ["old3", "old2", "old1", "old0"]


async def test_feed_bad_input_is_422(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    reader = await make_user("reader")
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"page": 0}, ["query", "page"]),
        ({"per_page": 101}, ["query", "per_page"]),
        ({"cursor": "nope"}, ["query", "cursor"]),
        ({"cursor": "x", "page": 1}, ["query", "cursor"]),
    ]
    for params, loc in cases:
        response = await client.get(FEED, params=params, headers=reader["headers"])
        assert response.status_code == 422, params
        assert error_locs(response) == [loc]
    # A cursor of another list (comments, followers) is refused too.
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    for _ in range(2):
        await client.post(
            f"{API}/posts/{post['id']}/comments", json={"body": "x"}, headers=writer["headers"]
        )
    cursor = (
        await client.get(f"{API}/posts/{post['id']}/comments", params={"per_page": 1})
    ).json()["next_cursor"]
    response = await client.get(FEED, params={"cursor": cursor}, headers=reader["headers"])
    assert response.status_code == 422


async def test_feed_statement_count_does_not_grow_with_per_page(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, engine: AsyncEngine
) -> None:
    writers = [await make_user(f"writer{i}") for i in range(4)]
    reader = await make_user("reader")
    for writer in writers:
        await follow(client, writer["id"], reader["headers"])
    for i in range(24):
        post = await make_post(writers[i % 4]["headers"], title=f"p{i}", tags=["a", f"t{i % 3}"])
        if i % 3 == 0:
            await favorite(client, post["id"], reader["headers"])
    first = (await client.get(FEED, params={"per_page": 1}, headers=reader["headers"])).json()
    seen: dict[tuple[str, int], int] = {}
    for mode in ("page", "cursor"):
        for per_page in (1, 10, 20):
            params: dict[str, Any] = {"per_page": per_page}
            if mode == "cursor":
                params["cursor"] = first["next_cursor"]
            with recorded_statements(engine) as statements:
                response = await client.get(FEED, params=params, headers=reader["headers"])
            assert len(response.json()["items"]) == per_page
            seen[mode, per_page] = len(statements)
    assert seen["page", 1] == seen["page", 10] == seen["page", 20], seen
    assert seen["cursor", 1] == seen["cursor", 10] == seen["cursor", 20], seen
    # The caller's token, then one statement for the cursor page.
    assert seen["cursor", 1] <= 2, seen
