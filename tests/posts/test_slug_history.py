"""Slugs that never break (API.md "Publishing (v3)", the `slug` bullet): a slug may be sent on
create and PATCH, normalised as derived ones are; every slug a post has had keeps leading to it
(a 301 to the current one natively, the article itself on the RealWorld face); one that another
post has or had is a 409, and derived slugs skip it; racing requests for one slug give one
2xx."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.helpers.api import API
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import seed_posts


async def _patch(client: AsyncClient, post_id: int, headers: dict[str, str], **body: Any) -> Any:
    return await client.patch(f"{API}/posts/{post_id}", json=body, headers=headers)


async def _rename(
    client: AsyncClient, post: dict[str, Any], headers: dict[str, str], slug: str
) -> dict[str, Any]:
    response = await _patch(client, post["id"], headers, slug=slug)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["slug"] == slug
    return body


@pytest.fixture
async def writer(make_user: UserFactory) -> dict[str, Any]:
    return await make_user("writer")


async def test_a_slug_sent_on_create_is_normalised_as_derived_ones_are(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    post = await make_post(writer["headers"], title="Anything", slug="  Héllo, Wörld!  ")
    assert post["slug"] == "hello-world"
    found = await client.get(f"{API}/posts/by-slug/hello-world")
    assert found.status_code == 200
    assert found.json()["id"] == post["id"]


@pytest.mark.parametrize("slug", ["", "---", "!!!", "ééé", "☃", "feed", "x" * 201])
async def test_an_unusable_slug_is_a_422_that_stores_nothing(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory, slug: str
) -> None:
    h = writer["headers"]
    response = await client.post(
        f"{API}/posts", json={"title": "T", "content": "c", "slug": slug}, headers=h
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert ["body", "slug"] in [e["loc"][:2] for e in response.json()["errors"]]
    mine = (await client.get(f"{API}/users/me/posts", headers=h)).json()
    assert mine["total"] == 0
    post = await make_post(h, title="Kept")
    response = await _patch(client, post["id"], h, slug=slug)
    assert response.status_code == 422, response.text
    assert (await client.get(f"{API}/posts/{post['id']}")).json()["slug"] == "kept"


async def test_null_slug_on_patch_is_a_422(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    post = await make_post(writer["headers"], title="Kept")
    response = await _patch(client, post["id"], writer["headers"], slug=None)
    assert response.status_code == 422


async def test_old_slugs_answer_301_to_the_current_one_through_a_chain_of_renames(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="First name")
    for slug in ("second-name", "third-name", "fourth-name"):
        post = await _rename(client, post, h, slug)
    for old in ("first-name", "second-name", "third-name"):
        response = await client.get(f"{API}/posts/by-slug/{old}")
        assert response.status_code == 301, (old, response.text)
        assert response.headers["location"] == f"{API}/posts/by-slug/fourth-name"
        followed = await client.get(response.headers["location"])
        assert followed.status_code == 200
        assert followed.json()["id"] == post["id"]
    current = await client.get(f"{API}/posts/by-slug/fourth-name")
    assert current.status_code == 200
    assert current.json()["slug"] == "fourth-name"


async def test_an_old_slug_of_a_draft_stays_hidden_from_others(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory, make_user: UserFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Secret", published=False)
    await _rename(client, post, h, "still-secret")
    assert (await client.get(f"{API}/posts/by-slug/secret")).status_code == 404
    other = await make_user("nosy")
    response = await client.get(f"{API}/posts/by-slug/secret", headers=other["headers"])
    assert response.status_code == 404
    response = await client.get(f"{API}/posts/by-slug/secret", headers=h)
    assert response.status_code == 301


async def test_a_slug_another_post_has_or_had_is_a_409_that_changes_nothing(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    holder = await make_post(h, title="Held")
    await _rename(client, holder, h, "held-now")  # "held" is now an old slug of holder
    other = await make_post(h, title="Other")
    for slug in ("held", "held-now", "HELD now"):
        response = await _patch(client, other["id"], h, slug=slug, title="Changed")
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "slug" in response.json()["detail"]
        stored = (await client.get(f"{API}/posts/{other['id']}")).json()
        assert (stored["slug"], stored["title"]) == ("other", "Other")
        created = await client.post(
            f"{API}/posts", json={"title": "New", "content": "c", "slug": slug}, headers=h
        )
        assert created.status_code == 409, created.text
    mine = (await client.get(f"{API}/users/me/posts", headers=h)).json()
    assert mine["total"] == 2
    # The old slug still leads to its post.
    assert (await client.get(f"{API}/posts/by-slug/held")).status_code == 301


async def test_derived_slugs_skip_slugs_held_before_by_other_posts(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    first = await make_post(h, title="Hello")
    await _rename(client, first, h, "goodbye")
    second = await make_post(h, title="Hello")
    assert second["slug"] != "hello"
    assert second["slug"].startswith("hello-")
    response = await client.get(f"{API}/posts/by-slug/hello")
    assert response.status_code == 301
    assert response.headers["location"].endswith("/goodbye")


async def test_a_post_may_take_back_its_own_old_slug(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Original")
    await _rename(client, post, h, "interim")
    await _rename(client, post, h, "original")
    assert (await client.get(f"{API}/posts/by-slug/original")).status_code == 200
    response = await client.get(f"{API}/posts/by-slug/interim")
    assert response.status_code == 301
    assert response.headers["location"].endswith("/original")
    # Sending the current slug again changes nothing and is no conflict.
    again = await _patch(client, post["id"], h, slug="original")
    assert again.status_code == 200


async def test_deleting_a_post_frees_its_slugs(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Gone soon")
    await _rename(client, post, h, "gone-now")
    assert (await client.delete(f"{API}/posts/{post['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{API}/posts/by-slug/gone-soon")).status_code == 404
    again = await make_post(h, title="Gone soon")
    assert again["slug"] == "gone-soon"
    third = await make_post(h, title="x", slug="gone-now")
    assert third["slug"] == "gone-now"


async def test_racing_posts_for_one_explicit_slug_give_one_2xx_and_409s(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    n = 6

    async def create(i: int) -> Any:
        return await client.post(
            f"{API}/posts", json={"title": f"T{i}", "content": "c", "slug": "wanted"}, headers=h
        )

    responses = await asyncio.gather(*(create(i) for i in range(n)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: n - 1}, [r.text for r in responses]
    posts = [await make_post(h, title=f"P{i}") for i in range(n)]

    async def rename(post: dict[str, Any]) -> Any:
        return await _patch(client, post["id"], h, slug="renamed")

    responses = await asyncio.gather(*(rename(p) for p in posts))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: n - 1}, [r.text for r in responses]
    winner = (await client.get(f"{API}/posts/by-slug/renamed")).json()["id"]
    for post in posts:
        stored = (await client.get(f"{API}/posts/{post['id']}")).json()
        assert stored["slug"] == ("renamed" if post["id"] == winner else post["slug"])


async def test_an_old_slug_finds_the_article_on_the_realworld_face(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Old article")
    await _rename(client, post, h, "new-article")
    token = {"Authorization": h["Authorization"].replace("Bearer", "Token")}
    article = await client.get("/api/articles/old-article")
    assert article.status_code == 200, article.text
    assert article.json()["article"]["slug"] == "new-article"
    comment = await client.post(
        "/api/articles/old-article/comments", json={"comment": {"body": "Hi"}}, headers=token
    )
    assert comment.status_code in (200, 201), comment.text
    comments = await client.get("/api/articles/old-article/comments")
    assert [c["body"] for c in comments.json()["comments"]] == ["Hi"]
    favorite = await client.post("/api/articles/old-article/favorite", headers=token)
    assert favorite.status_code == 200, favorite.text
    assert favorite.json()["article"]["favoritesCount"] == 1
    updated = await client.put(
        "/api/articles/old-article", json={"article": {"body": "New body"}}, headers=token
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["article"]["body"] == "New body"
    deleted = await client.delete("/api/articles/old-article", headers=token)
    assert deleted.status_code in (200, 204), deleted.text
    assert (await client.get("/api/articles/new-article")).status_code == 404


async def test_one_post_by_an_old_slug_costs_one_statement(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory, statements: list[str]
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Counted")
    await _rename(client, post, h, "counted-again")
    for slug, status in (("counted", 301), ("counted-again", 200)):
        statements.clear()
        response = await client.get(f"{API}/posts/by-slug/{slug}")
        assert response.status_code == status
        assert len(statements) == 1, statements


async def test_a_post_inserted_outside_the_service_keeps_its_slugs_too(
    app: FastAPI, client: AsyncClient, writer: dict[str, Any]
) -> None:
    """Bulk inserts and imports write no history: the current slug still finds the post, and
    once the post is renamed the slug it had leads to it and stays its own."""
    await seed_posts(app, writer["id"], 1)
    h = writer["headers"]
    found = await client.get(f"{API}/posts/by-slug/seeded-0")
    assert found.status_code == 200
    post = found.json()
    await _rename(client, post, h, "renamed-seed")
    moved = await client.get(f"{API}/posts/by-slug/seeded-0")
    assert moved.status_code == 301
    assert moved.headers["location"].endswith("/renamed-seed")
    taken = await client.post(
        f"{API}/posts", json={"title": "t", "content": "c", "slug": "seeded-0"}, headers=h
    )
    assert taken.status_code == 409
