"""RealWorld face: the comments of the article page. Every answer is validated against the
RealWorld spec (tests/helpers/realworld.py)."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests.helpers.factories import PostFactory
from tests.helpers.realworld import check, errors_of, register

ONE = "/articles/{slug}/comments/{id}"
ALL = "/articles/{slug}/comments"


async def _article(client: AsyncClient, make_post: PostFactory, headers: dict[str, str]) -> str:
    """A published article written through /api/v1 (bearer headers); its slug."""
    token = headers["Authorization"].split(" ", 1)[1]
    post: dict[str, Any] = await make_post({"Authorization": f"Bearer {token}"}, "An article")
    slug: str = post["slug"]
    return slug


async def test_comments_on_the_article_page(client: AsyncClient, make_post: PostFactory) -> None:
    jake = await register(client, "jake")
    reader = await register(client, "reader")
    slug = await _article(client, make_post, jake["headers"])
    url = f"/api/articles/{slug}/comments"

    assert check(await client.get(url), ALL, 200) == {"comments": []}
    response = await client.post(
        url, json={"comment": {"body": "Thank you so much!"}}, headers=reader["headers"]
    )
    first = check(response, ALL, 201)["comment"]
    assert first["body"] == "Thank you so much!"
    assert first["author"] == {
        "username": "reader",
        "bio": None,
        "image": None,
        "following": False,
    }
    response = await client.post(url, json={"comment": {"body": "Mine"}}, headers=jake["headers"])
    second = check(response, ALL, 201)["comment"]

    for _ in range(30):  # listed whole, never paged
        await client.post(url, json={"comment": {"body": "more"}}, headers=jake["headers"])
    comments = check(await client.get(url, headers=reader["headers"]), ALL, 200)["comments"]
    assert len(comments) == 32
    assert [c["id"] for c in comments[:2]] == [first["id"], second["id"]]  # oldest first
    assert comments[0] == first
    anonymous = check(await client.get(url), ALL, 200)["comments"]
    assert anonymous == comments

    # The comment's author deletes it; then it is gone.
    check(await client.delete(f"{url}/{first['id']}", headers=reader["headers"]), ONE, 204)
    again = await client.delete(f"{url}/{first['id']}", headers=reader["headers"])
    assert errors_of(again, ONE, 404) == {"comment": ["not found"]}
    after = check(await client.get(url), ALL, 200)["comments"]
    assert first["id"] not in [c["id"] for c in after]
    # The article's author may delete any comment under it.
    check(await client.delete(f"{url}/{after[-1]['id']}", headers=jake["headers"]), ONE, 204)


async def test_comment_errors(client: AsyncClient, make_post: PostFactory) -> None:
    jake = await register(client, "jake")
    stranger = await register(client, "stranger")
    slug = await _article(client, make_post, jake["headers"])
    other = await _article(client, make_post, jake["headers"])
    url = f"/api/articles/{slug}/comments"
    response = await client.post(url, json={"comment": {"body": "Mine"}}, headers=jake["headers"])
    comment = check(response, ALL, 201)["comment"]

    no_auth = await client.post(url, json={"comment": {"body": "No auth comment"}})
    assert errors_of(no_auth, ALL, 401) == {"token": ["is missing"]}
    for body in ({"body": ""}, {"body": "  "}, {"body": "\u200b"}, {}, {"body": None}):
        blank = await client.post(url, json={"comment": body}, headers=jake["headers"])
        assert errors_of(blank, ALL, 422) == {"body": ["can't be blank"]}
    too_long = await client.post(
        url, json={"comment": {"body": "x" * 5001}}, headers=jake["headers"]
    )
    assert list(errors_of(too_long, ALL, 422)) == ["body"]
    unknown = "/api/articles/nonexistent-slug-xxx/comments"
    response = await client.post(unknown, json={"comment": {"body": "x"}}, headers=jake["headers"])
    assert errors_of(response, ALL, 404) == {"article": ["not found"]}
    assert errors_of(await client.get(unknown), ALL, 404) == {"article": ["not found"]}

    for path in (f"{url}/{comment['id']}", f"{unknown}/1"):  # auth before existence
        assert errors_of(await client.delete(path), ONE, 401) == {"token": ["is missing"]}
    response = await client.delete(f"{unknown}/1", headers=jake["headers"])
    assert errors_of(response, ONE, 404) == {"article": ["not found"]}
    # A comment id is looked up within its article.
    response = await client.delete(
        f"/api/articles/{other}/comments/{comment['id']}", headers=jake["headers"]
    )
    assert errors_of(response, ONE, 404) == {"comment": ["not found"]}
    for missing in ("0", "2147483647"):
        response = await client.delete(f"{url}/{missing}", headers=jake["headers"])
        assert errors_of(response, ONE, 404) == {"comment": ["not found"]}
    response = await client.delete(f"{url}/{comment['id']}", headers=stranger["headers"])
    assert errors_of(response, ONE, 403) == {"comment": ["forbidden"]}
    for bad in ("not-a-number", "1e3", "-1", "99999999999"):
        response = await client.delete(f"{url}/{bad}", headers=jake["headers"])
        assert list(errors_of(response, ONE, 422)) == ["id"]
    still = check(await client.get(url), ALL, 200)["comments"]
    assert [c["id"] for c in still] == [comment["id"]]


async def test_drafts_have_no_comments_on_this_face(
    client: AsyncClient, make_post: PostFactory
) -> None:
    jake = await register(client, "jake")
    token = jake["headers"]["Authorization"].split(" ", 1)[1]
    draft = await make_post({"Authorization": f"Bearer {token}"}, "Draft", published=False)
    url = f"/api/articles/{draft['slug']}/comments"
    for response in (
        await client.get(url, headers=jake["headers"]),
        await client.post(url, json={"comment": {"body": "x"}}, headers=jake["headers"]),
    ):
        assert errors_of(response, ALL, 404) == {"article": ["not found"]}
