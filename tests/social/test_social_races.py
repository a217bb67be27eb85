"""Racing favorites, comments and follows: every answer 2xx or a clean 404, counts exact."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.helpers.api import API, get_post, get_profile
from tests.helpers.counts import assert_counts_exact
from tests.helpers.factories import PostFactory, UserFactory

N = 20


async def crowd(make_user: UserFactory, n: int = N) -> list[dict[str, Any]]:
    return [await make_user(f"racer{i}") for i in range(n)]


def statuses(responses: list[Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def assert_clean(responses: list[Response], allowed: set[int]) -> None:
    assert set(statuses(responses)) <= allowed, [r.text for r in responses]
    for response in responses:
        if response.status_code == 404:
            assert response.headers["content-type"] == "application/problem+json"


async def test_twenty_users_favorite_one_post_at_once(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    users = await crowd(make_user)
    responses = await asyncio.gather(
        *(client.put(f"{API}/posts/{post['id']}/favorite", headers=u["headers"]) for u in users)
    )
    assert statuses(responses) == {200: N}, [r.text for r in responses]
    assert all(r.json()["favorited"] for r in responses)
    assert (await get_post(client, post["id"]))["favorites_count"] == N
    await assert_counts_exact(app)
    # And all of them take it back at once.
    responses = await asyncio.gather(
        *(client.delete(f"{API}/posts/{post['id']}/favorite", headers=u["headers"]) for u in users)
    )
    assert statuses(responses) == {200: N}, [r.text for r in responses]
    assert (await get_post(client, post["id"]))["favorites_count"] == 0
    await assert_counts_exact(app)


async def test_one_user_favoriting_one_post_many_times_at_once_is_one_favorite(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    fan = await make_user("fan")
    post = await make_post(writer["headers"])
    path = f"{API}/posts/{post['id']}/favorite"
    responses = await asyncio.gather(*(client.put(path, headers=fan["headers"]) for _ in range(10)))
    assert statuses(responses) == {200: 10}, [r.text for r in responses]
    assert (await get_post(client, post["id"]))["favorites_count"] == 1
    listed = (await client.get(f"{API}/posts", params={"favorited_by": "fan"})).json()
    assert listed["total"] == 1
    mixed = [client.put(path, headers=fan["headers"]) for _ in range(5)] + [
        client.delete(path, headers=fan["headers"]) for _ in range(5)
    ]
    responses = await asyncio.gather(*mixed)
    assert statuses(responses) == {200: 10}, [r.text for r in responses]
    after = await get_post(client, post["id"], fan["headers"])
    assert after["favorites_count"] == (1 if after["favorited"] else 0)


async def test_twenty_comments_on_one_post_at_once(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    users = await crowd(make_user)
    responses = await asyncio.gather(
        *(
            client.post(
                f"{API}/posts/{post['id']}/comments", json={"body": f"c{i}"}, headers=u["headers"]
            )
            for i, u in enumerate(users)
        )
    )
    assert statuses(responses) == {201: N}, [r.text for r in responses]
    counts = await assert_counts_exact(app)
    assert counts["post_comments", post["id"]] == N
    ids = [r.json()["id"] for r in responses]
    responses = await asyncio.gather(
        *(
            client.delete(f"{API}/posts/{post['id']}/comments/{cid}", headers=writer["headers"])
            for cid in ids
        )
    )
    assert statuses(responses) == {204: N}, [r.text for r in responses]
    assert ("post_comments", post["id"]) not in await assert_counts_exact(app)


async def test_twenty_follows_of_one_user_at_once(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    star = await make_user("star")
    users = await crowd(make_user)
    responses = await asyncio.gather(
        *(client.put(f"{API}/users/{star['id']}/follow", headers=u["headers"]) for u in users)
    )
    assert statuses(responses) == {200: N}, [r.text for r in responses]
    assert all(r.json()["following"] for r in responses)
    assert (await get_profile(client, star["id"]))["followers_count"] == N
    await assert_counts_exact(app)
    # One user following twenty others at once: their following_count is hot the other way.
    responses = await asyncio.gather(
        *(client.put(f"{API}/users/{u['id']}/follow", headers=star["headers"]) for u in users)
    )
    assert statuses(responses) == {200: N}, [r.text for r in responses]
    assert (await get_profile(client, star["id"]))["following_count"] == N
    responses = await asyncio.gather(
        *(client.delete(f"{API}/users/{star['id']}/follow", headers=u["headers"]) for u in users)
    )
    assert statuses(responses) == {200: N}, [r.text for r in responses]
    profile = await get_profile(client, star["id"])
    assert (profile["followers_count"], profile["following_count"]) == (0, N)
    await assert_counts_exact(app)


async def test_one_follow_sent_many_times_at_once_is_one_follow(
    client: AsyncClient, make_user: UserFactory
) -> None:
    star = await make_user("star")
    fan = await make_user("fan")
    path = f"{API}/users/{star['id']}/follow"
    responses = await asyncio.gather(*(client.put(path, headers=fan["headers"]) for _ in range(10)))
    assert statuses(responses) == {200: 10}, [r.text for r in responses]
    assert (await get_profile(client, star["id"]))["followers_count"] == 1
    assert (await get_profile(client, fan["id"]))["following_count"] == 1


@pytest.mark.parametrize("round_", range(3))
async def test_favorites_and_comments_racing_the_posts_deletion(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory, round_: int
) -> None:
    writer = await make_user("writer")
    users = await crowd(make_user, 10)
    post = await make_post(writer["headers"])
    await client.put(f"{API}/posts/{post['id']}/favorite", headers=users[0]["headers"])
    favorites = [
        client.put(f"{API}/posts/{post['id']}/favorite", headers=u["headers"]) for u in users[1:]
    ]
    comments = [
        client.post(f"{API}/posts/{post['id']}/comments", json={"body": "hi"}, headers=u["headers"])
        for u in users
    ]
    deletion = client.delete(f"{API}/posts/{post['id']}", headers=writer["headers"])
    # The deletion goes in the middle, so that some writes come before it and some after.
    responses = list(
        await asyncio.gather(*favorites[:4], *comments[:5], deletion, *favorites[4:], *comments[5:])
    )
    assert_clean(responses, {200, 201, 204, 404})
    assert statuses(responses)[204] == 1
    assert (await client.get(f"{API}/posts/{post['id']}")).status_code == 404
    counts = await assert_counts_exact(app)
    assert ("post_comments", post["id"]) not in counts
    assert ("post_favorites", post["id"]) not in counts
    for user in users:
        listed = (
            await client.get(f"{API}/posts", params={"favorited_by": user["username"]})
        ).json()
        assert listed["total"] == 0


@pytest.mark.parametrize("round_", range(3))
async def test_follows_racing_the_followed_users_deletion(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, round_: int
) -> None:
    star = await make_user("star")
    users = await crowd(make_user, 10)
    await client.put(f"{API}/users/{star['id']}/follow", headers=users[0]["headers"])
    follows = [client.put(f"{API}/users/{star['id']}/follow", headers=u["headers"]) for u in users]
    back = [client.put(f"{API}/users/{u['id']}/follow", headers=star["headers"]) for u in users[:5]]
    deletion = client.delete(f"{API}/users/me", headers=star["headers"])
    responses = list(
        await asyncio.gather(*follows[:5], *back[:3], deletion, *follows[5:], *back[3:])
    )
    by_others = responses[:5] + responses[9:14]
    by_the_deleted = responses[5:8] + responses[14:]
    assert_clean(by_others, {200, 404})
    assert responses[8].status_code == 204, responses[8].text
    # The deleted user's own requests: done before, or refused after (the token's user is gone).
    assert set(statuses(by_the_deleted)) <= {200, 401}, [r.text for r in by_the_deleted]
    for user in users:
        profile = await get_profile(client, user["id"])
        assert (profile["followers_count"], profile["following_count"]) == (0, 0), user
    counts = await assert_counts_exact(app)
    assert not [key for key in counts if key[0] in {"user_followers", "user_following"}]
