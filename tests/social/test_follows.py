"""Profiles, follows, followers/following, and the avatar `image`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers.api import (
    API,
    PROFILE_FIELDS,
    PUBLIC_USER_FIELDS,
    error_locs,
    follow,
    get_profile,
)
from tests.helpers.counts import assert_counts_exact
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import walk
from tests.helpers.statements import recorded_statements


def follow_of(user_id: int) -> str:
    return f"{API}/users/{user_id}/follow"


def counts(profile: dict[str, Any]) -> tuple[int, int, int, bool]:
    return (
        profile["posts_count"],
        profile["followers_count"],
        profile["following_count"],
        profile["following"],
    )


async def test_profile_shape_and_counts(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer", bio="words")
    await make_post(writer["headers"], title="one")
    await make_post(writer["headers"], title="two")
    await make_post(writer["headers"], title="draft", published=False)
    profile = await get_profile(client, writer["id"])
    assert set(profile) == PROFILE_FIELDS
    assert (profile["id"], profile["username"], profile["bio"], profile["image"]) == (
        writer["id"],
        "writer",
        "words",
        None,
    )
    assert counts(profile) == (2, 0, 0, False)
    by_name = await client.get(f"{API}/users/by-username/WRITER")
    assert by_name.status_code == 200
    assert by_name.json() == profile


async def test_unknown_profile_is_404(client: AsyncClient, make_user: UserFactory) -> None:
    user = await make_user("someone")
    assert (await client.get(f"{API}/users/{user['id'] + 1000}")).status_code == 404
    response = await client.get(f"{API}/users/by-username/nobody")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"{API}/users/by-username/{'x' * 300}")).status_code in {404, 422}


async def test_follow_answers_the_profile_and_is_idempotent(
    client: AsyncClient, make_user: UserFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    for _ in range(2):
        profile = await follow(client, writer["id"], reader["headers"])
        assert set(profile) == PROFILE_FIELDS
        assert profile["id"] == writer["id"]
        assert counts(profile) == (0, 1, 0, True)
    assert counts(await get_profile(client, writer["id"], reader["headers"])) == (0, 1, 0, True)
    assert counts(await get_profile(client, writer["id"])) == (0, 1, 0, False)
    assert counts(await get_profile(client, writer["id"], writer["headers"])) == (0, 1, 0, False)
    assert counts(await get_profile(client, reader["id"], writer["headers"])) == (0, 0, 1, False)
    by_name = (
        await client.get(f"{API}/users/by-username/writer", headers=reader["headers"])
    ).json()
    assert by_name["following"] is True
    for _ in range(2):
        response = await client.delete(follow_of(writer["id"]), headers=reader["headers"])
        assert response.status_code == 200, response.text
        assert counts(response.json()) == (0, 0, 0, False)
    assert counts(await get_profile(client, reader["id"])) == (0, 0, 0, False)


async def test_following_oneself_is_422(client: AsyncClient, make_user: UserFactory) -> None:
    me = await make_user("narcissus")
    response = await client.put(follow_of(me["id"]), headers=me["headers"])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert error_locs(response) == [["path", "user_id"]]
    assert counts(await get_profile(client, me["id"])) == (0, 0, 0, False)
    response = await client.delete(follow_of(me["id"]), headers=me["headers"])
    assert response.status_code == 200
    assert response.json()["following"] is False


async def test_follow_needs_a_token_and_an_existing_user(
    client: AsyncClient, make_user: UserFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    response = await client.put(follow_of(writer["id"]))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.delete(follow_of(writer["id"]))).status_code == 401
    for method in ("PUT", "DELETE"):
        response = await client.request(
            method, follow_of(writer["id"] + 1000), headers=reader["headers"]
        )
        assert response.status_code == 404
        for bad in ("0", "-3", str(2**31), "me"):
            response = await client.request(
                method, f"{API}/users/{bad}/follow", headers=reader["headers"]
            )
            assert response.status_code == 422, (method, bad)
            assert error_locs(response) == [["path", "user_id"]]
    assert counts(await get_profile(client, writer["id"])) == (0, 0, 0, False)


async def test_deleting_a_user_takes_their_follows_both_ways(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    gone = await make_user("gone")
    a = await make_user("alice")
    b = await make_user("bob")
    await follow(client, gone["id"], a["headers"])
    await follow(client, gone["id"], b["headers"])
    await follow(client, a["id"], gone["headers"])
    await follow(client, a["id"], b["headers"])
    assert counts(await get_profile(client, a["id"])) == (0, 2, 1, False)
    assert (await client.delete(f"{API}/users/me", headers=gone["headers"])).status_code == 204
    assert counts(await get_profile(client, a["id"])) == (0, 1, 0, False)
    assert counts(await get_profile(client, b["id"])) == (0, 0, 1, False)
    await assert_counts_exact(app)
    followers = (await client.get(f"{API}/users/{a['id']}/followers")).json()
    assert [u["id"] for u in followers["items"]] == [b["id"]]
    assert (await client.get(f"{API}/users/{a['id']}/following")).json()["total"] == 0
    assert (await client.put(follow_of(gone["id"]), headers=a["headers"])).status_code == 404


async def test_posts_count_follows_publishing_and_deleting(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    draft = await make_post(writer["headers"], published=False)
    post = await make_post(writer["headers"], title="out")
    assert (await get_profile(client, writer["id"]))["posts_count"] == 1
    await client.patch(
        f"{API}/posts/{draft['id']}", json={"published": True}, headers=writer["headers"]
    )
    assert (await get_profile(client, writer["id"]))["posts_count"] == 2
    await client.delete(f"{API}/posts/{post['id']}", headers=writer["headers"])
    assert (await get_profile(client, writer["id"]))["posts_count"] == 1
    await client.patch(
        f"{API}/posts/{draft['id']}", json={"published": False}, headers=writer["headers"]
    )
    assert (await get_profile(client, writer["id"]))["posts_count"] == 0


async def test_a_profile_is_one_statement_whoever_asks(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, engine: AsyncEngine
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    await make_post(writer["headers"])
    await follow(client, writer["id"], reader["headers"])
    with recorded_statements(engine) as anonymous:
        assert (await get_profile(client, writer["id"]))["followers_count"] == 1
    with recorded_statements(engine) as by_name:
        response = await client.get(f"{API}/users/by-username/writer")
        assert response.json()["posts_count"] == 1
    with recorded_statements(engine) as viewer:
        assert (await get_profile(client, writer["id"], reader["headers"]))["following"] is True
    assert len(anonymous) == len(by_name) == 1, (anonymous, by_name)
    # The viewer's token costs what it costs everywhere; the profile is still one statement.
    assert len(viewer) <= 2, viewer


async def test_followers_and_following_most_recent_follow_first(
    client: AsyncClient, make_user: UserFactory
) -> None:
    star = await make_user("star")
    fans = [await make_user(f"fan{i}") for i in range(5)]
    # fan2 follows first, then the others in order: the list shows the latest follow first.
    order = [fans[2], fans[0], fans[1], fans[4], fans[3]]
    for fan in order:
        await follow(client, star["id"], fan["headers"])
    for fan in fans[:3]:
        await follow(client, fans[4]["id"], fan["headers"])
    await follow(client, fans[4]["id"], star["headers"])
    page = (await client.get(f"{API}/users/{star['id']}/followers", params={"per_page": 2})).json()
    assert [u["id"] for u in page["items"]] == [fans[3]["id"], fans[4]["id"]]
    assert all(set(u) == PUBLIC_USER_FIELDS for u in page["items"])
    assert (page["total"], page["page"], page["pages"]) == (5, 1, 3)
    walked = await walk(client, f"{API}/users/{star['id']}/followers", per_page=2)
    assert [u["id"] for u in walked] == [f["id"] for f in reversed(order)]
    following = (await client.get(f"{API}/users/{fans[0]['id']}/following")).json()
    assert [u["id"] for u in following["items"]] == [fans[4]["id"], star["id"]]
    assert following["total"] == 2
    walked = await walk(client, f"{API}/users/{fans[0]['id']}/following", per_page=1)
    assert [u["id"] for u in walked] == [fans[4]["id"], star["id"]]
    await client.delete(follow_of(star["id"]), headers=fans[3]["headers"])
    page = (await client.get(f"{API}/users/{star['id']}/followers")).json()
    assert page["total"] == 4
    assert page["items"][0]["id"] == fans[4]["id"]


async def test_follow_lists_of_an_unknown_user_are_404(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("loner")
    for which in ("followers", "following"):
        empty = (await client.get(f"{API}/users/{user['id']}/{which}")).json()
        assert (empty["items"], empty["total"], empty["pages"]) == ([], 0, 0)
        assert (await client.get(f"{API}/users/{user['id'] + 1000}/{which}")).status_code == 404
        assert (await client.get(f"{API}/users/0/{which}")).status_code == 422
        response = await client.get(f"{API}/users/{user['id']}/{which}", params={"cursor": "bad"})
        assert response.status_code == 422
        assert error_locs(response) == [["query", "cursor"]]
        response = await client.get(f"{API}/users/{user['id']}/{which}", params={"per_page": 101})
        assert response.status_code == 422


async def test_a_followers_cursor_is_not_a_following_cursor(
    client: AsyncClient, make_user: UserFactory
) -> None:
    star = await make_user("star")
    fans = [await make_user(f"fan{i}") for i in range(3)]
    for fan in fans:
        await follow(client, star["id"], fan["headers"])
        await follow(client, fan["id"], star["headers"])
    followers = f"{API}/users/{star['id']}/followers"
    cursor = (await client.get(followers, params={"per_page": 1})).json()["next_cursor"]
    response = await client.get(f"{API}/users/{star['id']}/following", params={"cursor": cursor})
    assert response.status_code == 422
    response = await client.get(f"{API}/posts", params={"cursor": cursor})
    assert response.status_code == 422


async def test_follow_list_statement_count_does_not_grow_with_per_page(
    client: AsyncClient, make_user: UserFactory, engine: AsyncEngine
) -> None:
    star = await make_user("star")
    for i in range(12):
        fan = await make_user(f"fan{i}")
        await follow(client, star["id"], fan["headers"])
    seen: dict[int, int] = {}
    for per_page in (1, 6, 12):
        with recorded_statements(engine) as statements:
            response = await client.get(
                f"{API}/users/{star['id']}/followers", params={"per_page": per_page}
            )
        assert len(response.json()["items"]) == per_page
        seen[per_page] = len(statements)
    assert seen[1] == seen[6] == seen[12], seen
