"""The avatar `image`: an http(s) URL of at most 500 characters, or null."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.api import API, PUBLIC_USER_FIELDS, error_locs
from tests.helpers.factories import PostFactory, UserFactory


@pytest.mark.parametrize(
    "image",
    [
        "https://example.com/a.png",
        "http://cdn.example.org/u/1?size=80",
        "https://example.com/" + "a" * 480,
    ],
)
async def test_image_is_an_http_url(
    client: AsyncClient, make_user: UserFactory, image: str
) -> None:
    me = await make_user("pictured")
    response = await client.patch(f"{API}/users/me", json={"image": image}, headers=me["headers"])
    assert response.status_code == 200, response.text
    assert response.json()["image"] == image
    assert (await client.get(f"{API}/users/me", headers=me["headers"])).json()["image"] == image
    assert (await client.get(f"{API}/users/{me['id']}")).json()["image"] == image
    listed = (await client.get(f"{API}/users")).json()["items"]
    assert listed[0]["image"] == image
    cleared = await client.patch(f"{API}/users/me", json={"image": None}, headers=me["headers"])
    assert cleared.status_code == 200
    assert cleared.json()["image"] is None


@pytest.mark.parametrize(
    "image",
    [
        "ftp://example.com/a.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "not a url",
        "example.com/a.png",
        "https://",
        "http://]u@example.com/a.png",
        "https://example.com/" + "a" * 481,
        "",
        12,
    ],
)
async def test_bad_image_is_422_and_changes_nothing(
    client: AsyncClient, make_user: UserFactory, image: Any
) -> None:
    me = await make_user("pictured")
    good = "https://example.com/me.png"
    await client.patch(f"{API}/users/me", json={"image": good}, headers=me["headers"])
    response = await client.patch(f"{API}/users/me", json={"image": image}, headers=me["headers"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert ["body", "image"] in error_locs(response)
    assert (await client.get(f"{API}/users/me", headers=me["headers"])).json()["image"] == good


async def test_new_users_have_no_image_and_authors_show_theirs(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    plain = await make_user("plain")
    assert plain["image"] is None
    writer = await make_user("writer")
    await client.patch(
        f"{API}/users/me", json={"image": "https://example.com/w.png"}, headers=writer["headers"]
    )
    post = await make_post(writer["headers"])
    assert post["author"]["image"] == "https://example.com/w.png"
    assert set(post["author"]) == PUBLIC_USER_FIELDS
