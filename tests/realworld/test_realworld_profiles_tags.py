"""RealWorld face: a profile by username, and the tags in use. Every answer is validated
against the RealWorld spec (tests/helpers/realworld.py)."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.realworld import check, errors_of, register, token_headers


async def test_profile_by_username_for_anyone(client: AsyncClient) -> None:
    await register(client, "celeb_u1")
    jake = await register(client, "jake")
    expected = {"username": "celeb_u1", "bio": None, "image": None, "following": False}
    anonymous = await client.get("/api/profiles/celeb_u1")
    assert check(anonymous, "/profiles/{username}", 200)["profile"] == expected
    signed_in = await client.get("/api/profiles/CELEB_U1", headers=jake["headers"])
    assert check(signed_in, "/profiles/{username}", 200)["profile"] == expected


async def test_unknown_profile_is_404_and_a_bad_token_is_401(client: AsyncClient) -> None:
    for name in ("nonexistent-user-xxx", "no", "x" * 40, "with space"):
        response = await client.get(f"/api/profiles/{name}")
        assert errors_of(response, "/profiles/{username}", 404) == {"profile": ["not found"]}
    await register(client, "jake")
    response = await client.get("/api/profiles/jake", headers=token_headers("not-a-token"))
    assert list(errors_of(response, "/profiles/{username}", 401)) == ["token"]


async def test_tags_lists_every_tag_in_use_uncapped(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    assert check(await client.get("/api/tags"), "/tags", 200) == {"tags": []}
    author = await make_user("author")
    await make_post(author["headers"], "One", tags=["dragons", "training"])
    await make_post(author["headers"], "Two", tags=["dragons"])
    await make_post(author["headers"], "Draft", tags=["secret"], published=False)
    doomed: dict[str, Any] = await make_post(author["headers"], "Three", tags=["gone"])
    for i in range(25):
        await make_post(author["headers"], f"Tagged {i}", tags=[f"tag{i:02d}"])
    deleted = await client.delete(f"/api/v1/posts/{doomed['id']}", headers=author["headers"])
    assert deleted.status_code == 204
    tags = check(await client.get("/api/tags"), "/tags", 200)["tags"]
    assert tags[0] == "dragons"  # most used first
    assert sorted(tags) == sorted(["dragons", "training"] + [f"tag{i:02d}" for i in range(25)])
