"""Favorites: PUT/DELETE /posts/{id}/favorite, `favorited`, `favorites_count`, `favorited_by`."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers.api import API, error_locs, favorite, get_post
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import walk
from tests.helpers.statements import recorded_statements


def favorite_of(post_id: int) -> str:
    return f"{API}/posts/{post_id}/favorite"


async def test_favorite_answers_the_post_favorited_and_is_idempotent(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"], tags=["b", "a"])
    assert (post["favorited"], post["favorites_count"]) == (False, 0)
    for _ in range(2):
        body = await favorite(client, post["id"], reader["headers"])
        assert set(body) == set(post)
        assert body["id"] == post["id"]
        assert body["content"] == post["content"]
        assert body["tags"] == ["a", "b"]
        assert (body["favorited"], body["favorites_count"]) == (True, 1)
    assert (await get_post(client, post["id"], reader["headers"]))["favorited"] is True
    assert (await get_post(client, post["id"], writer["headers"]))["favorited"] is False
    anonymous = await get_post(client, post["id"])
    assert (anonymous["favorited"], anonymous["favorites_count"]) == (False, 1)
    for _ in range(2):
        response = await client.delete(favorite_of(post["id"]), headers=reader["headers"])
        assert response.status_code == 200, response.text
        assert (response.json()["favorited"], response.json()["favorites_count"]) == (False, 0)
    assert (await get_post(client, post["id"], reader["headers"]))["favorited"] is False


async def test_unfavorite_of_a_post_never_favorited_is_200(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    await favorite(client, post["id"], writer["headers"])
    response = await client.delete(favorite_of(post["id"]), headers=reader["headers"])
    assert response.status_code == 200
    assert (response.json()["favorited"], response.json()["favorites_count"]) == (False, 1)


async def test_counts_and_flags_of_several_users(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    readers = [await make_user(f"reader{i}") for i in range(3)]
    post = await make_post(writer["headers"])
    quiet = await make_post(writer["headers"], title="Quiet")
    for reader in readers:
        await favorite(client, post["id"], reader["headers"])
    assert (await get_post(client, post["id"]))["favorites_count"] == 3
    by_slug = (
        await client.get(f"{API}/posts/by-slug/{post['slug']}", headers=readers[0]["headers"])
    ).json()
    assert (by_slug["favorited"], by_slug["favorites_count"]) == (True, 3)
    for who, expected in ((readers[1], True), (writer, False), (None, False)):
        headers = who["headers"] if who else {}
        items = (await client.get(f"{API}/posts", headers=headers)).json()["items"]
        flags = {p["id"]: (p["favorited"], p["favorites_count"]) for p in items}
        assert flags == {post["id"]: (expected, 3), quiet["id"]: (False, 0)}
    mine = (await client.get(f"{API}/users/me/posts", headers=writer["headers"])).json()["items"]
    assert {p["id"]: p["favorites_count"] for p in mine} == {post["id"]: 3, quiet["id"]: 0}


async def test_favorite_needs_a_token_and_a_visible_post(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    superuser: dict[str, Any],
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    draft = await make_post(writer["headers"], title="Draft", published=False)
    response = await client.put(favorite_of(post["id"]))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.delete(favorite_of(post["id"]))).status_code == 401
    for method in ("PUT", "DELETE"):
        response = await client.request(
            method, favorite_of(post["id"] + 1000), headers=reader["headers"]
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        response = await client.request(method, favorite_of(draft["id"]), headers=reader["headers"])
        assert response.status_code == 404
        for bad in ("0", str(2**31), "x"):
            response = await client.request(
                method, f"{API}/posts/{bad}/favorite", headers=reader["headers"]
            )
            assert response.status_code == 422
            assert error_locs(response) == [["path", "post_id"]]
    # Its author and superusers see the draft, so they may favorite it.
    assert (await favorite(client, draft["id"], writer["headers"]))["favorites_count"] == 1
    assert (await favorite(client, draft["id"], superuser["headers"]))["favorites_count"] == 2
    assert (await get_post(client, post["id"]))["favorites_count"] == 0


async def test_favorites_of_a_post_made_a_draft_are_hidden(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    await favorite(client, post["id"], reader["headers"])
    response = await client.patch(
        f"{API}/posts/{post['id']}", json={"published": False}, headers=writer["headers"]
    )
    assert response.status_code == 200
    assert response.json()["favorites_count"] == 1
    assert (
        await client.delete(favorite_of(post["id"]), headers=reader["headers"])
    ).status_code == 404
    listed = await client.get(f"{API}/posts", params={"favorited_by": "reader"})
    assert listed.json()["items"] == []
    assert listed.json()["total"] == 0


async def test_favorited_by_lists_published_posts_a_user_favorited(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    fan = await make_user("Fan")
    other = await make_user("other")
    liked = [await make_post(writer["headers"], title=f"liked {i}", tags=["t"]) for i in range(3)]
    await make_post(writer["headers"], title="ignored", tags=["t"])
    untagged = await make_post(writer["headers"], title="untagged")
    for post in [*liked, untagged]:
        await favorite(client, post["id"], fan["headers"])
    await favorite(client, liked[0]["id"], other["headers"])
    page = (await client.get(f"{API}/posts", params={"favorited_by": "fan"})).json()
    # Default order: -published_at, like every public list.
    assert [p["id"] for p in page["items"]] == [untagged["id"], *(p["id"] for p in reversed(liked))]
    assert page["total"] == 4
    tagged = (await client.get(f"{API}/posts", params={"favorited_by": "FAN", "tag": "t"})).json()
    assert {p["id"] for p in tagged["items"]} == {p["id"] for p in liked}
    assert tagged["total"] == 3
    walked = await walk(client, f"{API}/posts", per_page=1, params={"favorited_by": "fan"})
    assert [p["id"] for p in walked] == [p["id"] for p in page["items"]]
    by_other = (await client.get(f"{API}/posts", params={"favorited_by": "other"})).json()
    assert [p["id"] for p in by_other["items"]] == [liked[0]["id"]]


async def test_favorited_by_an_unknown_or_invalid_user_is_an_empty_page(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    await make_post(writer["headers"])
    for name in ("nobody", "x", "not a name!", "a" * 64):
        response = await client.get(f"{API}/posts", params={"favorited_by": name})
        assert response.status_code == 200, name
        assert (response.json()["items"], response.json()["total"]) == ([], 0)
    response = await client.get(f"{API}/posts", params={"favorited_by": "a" * 65})
    assert response.status_code == 422
    assert error_locs(response) == [["query", "favorited_by"]]


async def test_deleting_the_post_takes_its_favorites(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    fan = await make_user("fan")
    gone = await make_post(writer["headers"], title="gone")
    kept = await make_post(writer["headers"], title="kept")
    for post in (gone, kept):
        await favorite(client, post["id"], fan["headers"])
    assert (
        await client.delete(f"{API}/posts/{gone['id']}", headers=writer["headers"])
    ).status_code == 204
    assert (await client.put(favorite_of(gone["id"]), headers=fan["headers"])).status_code == 404
    page = (await client.get(f"{API}/posts", params={"favorited_by": "fan"})).json()
    assert [p["id"] for p in page["items"]] == [kept["id"]]
    assert page["total"] == 1


async def test_deleting_a_user_takes_their_favorites_and_keeps_counts_exact(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    fans = [await make_user(f"fan{i}") for i in range(3)]
    post = await make_post(writer["headers"])
    for fan in fans:
        await favorite(client, post["id"], fan["headers"])
    assert (await client.delete(f"{API}/users/me", headers=fans[0]["headers"])).status_code == 204
    assert (await get_post(client, post["id"]))["favorites_count"] == 2
    assert (await get_post(client, post["id"], fans[1]["headers"]))["favorited"] is True


async def test_deleting_an_author_takes_the_favorites_of_their_posts(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    fan = await make_user("fan")
    post = await make_post(writer["headers"])
    await favorite(client, post["id"], fan["headers"])
    assert (await client.delete(f"{API}/users/me", headers=writer["headers"])).status_code == 204
    page = (await client.get(f"{API}/posts", params={"favorited_by": "fan"})).json()
    assert (page["items"], page["total"]) == ([], 0)


async def test_list_statement_count_with_a_viewer_does_not_grow_with_per_page(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, engine: AsyncEngine
) -> None:
    writer = await make_user("writer")
    fan = await make_user("fan")
    for i in range(12):
        post = await make_post(writer["headers"], title=f"p{i}", tags=["x", "y"])
        if i % 2:
            await favorite(client, post["id"], fan["headers"])
    counts: dict[tuple[str, int], int] = {}
    for params in ({}, {"favorited_by": "fan"}):
        for per_page in (1, 6, 12):
            with recorded_statements(engine) as statements:
                response = await client.get(
                    f"{API}/posts", params={**params, "per_page": per_page}, headers=fan["headers"]
                )
            items = response.json()["items"]
            assert len(items) == min(per_page, 6 if params else 12)
            if params:
                assert all(p["favorited"] for p in items)
            counts[str(params), per_page] = len(statements)
    assert counts["{}", 1] == counts["{}", 6] == counts["{}", 12], counts
    key = str({"favorited_by": "fan"})
    assert counts[key, 1] == counts[key, 6] == counts[key, 12], counts
