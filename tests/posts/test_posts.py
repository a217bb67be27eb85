"""Every Posts rule of the HTTP contract: shapes, drafts, permissions, slugs, tags, filters."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.api import PRESENTED_POST_FIELDS, WHOLE_POST_ONLY_FIELDS
from tests.helpers.factories import PostFactory, UserFactory

POST_FIELDS = {
    "id",
    "title",
    "slug",
    "description",
    "published",
    "status",
    "published_at",
    "author",
    "favorites_count",
    "comments_count",
    "favorited",
    "tags",
    "created_at",
    "updated_at",
    *PRESENTED_POST_FIELDS,
    *WHOLE_POST_ONLY_FIELDS,
}
SUMMARY_FIELDS = POST_FIELDS - WHOLE_POST_ONLY_FIELDS


async def test_create_post_returns_the_post_and_location(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("author")
    response = await client.post(
        "/api/v1/posts",
        headers=user["headers"],
        json={"title": "Hello, World!", "content": "Body text", "tags": ["Python", " async "]},
    )
    assert response.status_code == 201
    post = response.json()
    assert set(post) == POST_FIELDS
    assert post["slug"] == "hello-world"
    assert post["published"] is False
    assert post["tags"] == ["async", "python"]
    assert post["author"] == {
        "id": user["id"],
        "username": "author",
        "bio": None,
        "image": None,
        "created_at": user["created_at"],
    }
    assert (post["favorites_count"], post["comments_count"], post["favorited"]) == (0, 0, False)
    assert post["created_at"].endswith(("Z", "+00:00"))
    assert response.headers["location"] == f"/api/v1/posts/{post['id']}"
    fetched = await client.get(response.headers["location"], headers=user["headers"])
    assert fetched.json() == post


async def test_create_post_needs_auth(client: AsyncClient) -> None:
    response = await client.post("/api/v1/posts", json={"title": "t", "content": "c"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"title": "", "content": "c"}, "title"),
        ({"title": "   ", "content": "c"}, "title"),
        ({"title": "t" * 201, "content": "c"}, "title"),
        ({"title": "t", "content": ""}, "content"),
        ({"title": "t", "content": "c" * 100_001}, "content"),
        ({"title": "t", "content": "c", "tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"title": "t", "content": "c", "tags": ["bad tag"]}, "tags"),
        ({"title": "t", "content": "c", "tags": ["x" * 33]}, "tags"),
        ({"title": "t", "content": "c", "tags": [""]}, "tags"),
        ({"title": "t", "content": "c", "tags": ["ünï"]}, "tags"),
        ({"title": "t", "content": "c", "tags": "python"}, "tags"),
        ({"content": "c"}, "title"),
        ({"title": "t"}, "content"),
        ({"title": "t", "content": "c", "published": "maybe"}, "published"),
    ],
)
async def test_invalid_post_is_422_and_stores_nothing(
    client: AsyncClient, make_user: UserFactory, body: dict[str, Any], loc: str
) -> None:
    user = await make_user("writer")
    response = await client.post("/api/v1/posts", headers=user["headers"], json=body)
    assert response.status_code == 422, response.text
    assert any(e["loc"][:2] == ["body", loc] for e in response.json()["errors"])
    mine = await client.get("/api/v1/users/me/posts", headers=user["headers"])
    assert mine.json()["total"] == 0


async def test_limits_are_inclusive(client: AsyncClient, make_user: UserFactory) -> None:
    user = await make_user("limits")
    response = await client.post(
        "/api/v1/posts",
        headers=user["headers"],
        json={
            "title": "t" * 200,
            "content": "c" * 100_000,
            "tags": [f"tag{i}" for i in range(8)] + ["TAG0", " tag1 "],
        },
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["tags"]) == 8  # duplicates collapse
    assert response.json()["tags"][0] == "tag0"


async def test_at_most_ten_tags_as_sent_duplicates_included(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("tagcount")
    eleven = [f"tag{i}" for i in range(9)] + ["TAG0", " tag1 "]
    created = await client.post(
        "/api/v1/posts",
        headers=user["headers"],
        json={"title": "t", "content": "c", "tags": eleven},
    )
    assert created.status_code == 422
    assert ["body", "tags"] in [error["loc"] for error in created.json()["errors"]]
    mine = await client.get("/api/v1/users/me/posts", headers=user["headers"])
    assert mine.json()["total"] == 0


async def test_slugs_are_url_safe_lowercase_and_never_empty(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("slugger")
    cases = {
        "Héllo Wörld — Ça va?": "hello-world-ca-va",
        "  Many   spaces  ": "many-spaces",
        "!!!": "post",
        "UPPER case 123": "upper-case-123",
    }
    for title, expected in cases.items():
        post = await make_post(user["headers"], title=title)
        assert post["slug"] == expected
    # Nothing sluggable again: "post" is taken, so it gets a suffix, still URL-safe.
    again = await make_post(user["headers"], title="日本語")
    assert re.fullmatch(r"post-[a-z0-9]+", again["slug"])


async def test_same_title_gets_distinct_slugs_and_slug_is_stable(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("twin")
    first = await make_post(user["headers"], title="Same Title")
    second = await make_post(user["headers"], title="Same Title")
    assert first["slug"] == "same-title"
    assert second["slug"] != first["slug"]
    assert second["slug"].startswith("same-title-")
    edited = await client.patch(
        f"/api/v1/posts/{first['id']}", headers=user["headers"], json={"title": "Brand New Title"}
    )
    assert edited.status_code == 200
    assert edited.json()["title"] == "Brand New Title"
    assert edited.json()["slug"] == "same-title"
    by_slug = await client.get("/api/v1/posts/by-slug/same-title")
    assert by_slug.json()["id"] == first["id"]


async def test_get_by_slug_and_404s(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("finder")
    post = await make_post(user["headers"], title="Findable")
    response = await client.get("/api/v1/posts/by-slug/findable")
    assert response.status_code == 200
    assert response.json()["id"] == post["id"]
    missing = await client.get("/api/v1/posts/by-slug/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/posts/999999")).status_code == 404
    assert (await client.get(f"/api/v1/posts/{2**31}")).status_code == 422


async def test_drafts_are_404_to_everyone_but_author_and_superusers(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, superuser: dict[str, Any]
) -> None:
    author = await make_user("drafter")
    other = await make_user("snoop")
    draft = await make_post(author["headers"], title="Secret Draft", published=False)
    for path in (f"/api/v1/posts/{draft['id']}", "/api/v1/posts/by-slug/secret-draft"):
        assert (await client.get(path)).status_code == 404
        assert (await client.get(path, headers=other["headers"])).status_code == 404
        assert (await client.get(path, headers=author["headers"])).status_code == 200
        assert (await client.get(path, headers=superuser["headers"])).status_code == 200
    # Someone else cannot change or delete a draft they cannot see either.
    assert (
        await client.patch(
            f"/api/v1/posts/{draft['id']}", headers=other["headers"], json={"title": "x"}
        )
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/posts/{draft['id']}", headers=other["headers"])
    ).status_code == 404
    # Drafts are never listed publicly.
    assert (await client.get("/api/v1/posts")).json()["total"] == 0


async def test_optional_auth_endpoints_reject_bad_tokens(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("opt")
    post = await make_post(user["headers"])
    bad = {"Authorization": "Bearer not-a-token"}
    for path in (
        "/api/v1/posts",
        f"/api/v1/posts/{post['id']}",
        f"/api/v1/posts/by-slug/{post['slug']}",
    ):
        response = await client.get(path, headers=bad)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert (await client.get(path)).status_code == 200


async def test_patch_post_rules(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, superuser: dict[str, Any]
) -> None:
    author = await make_user("owner")
    other = await make_user("intruder")
    post = await make_post(author["headers"], title="Original", content="old", tags=["a", "b"])
    path = f"/api/v1/posts/{post['id']}"
    assert (await client.patch(path, json={"title": "x"})).status_code == 401
    forbidden = await client.patch(path, headers=other["headers"], json={"title": "x"})
    assert forbidden.status_code == 403
    ok = await client.patch(
        path, headers=author["headers"], json={"content": "new", "tags": ["C", "b"]}
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["content"] == "new"
    assert body["tags"] == ["b", "c"]
    assert body["title"] == "Original"
    assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(post["updated_at"])
    tags_only = await client.patch(path, headers=author["headers"], json={"tags": ["d"]})
    assert datetime.fromisoformat(tags_only.json()["updated_at"]) > datetime.fromisoformat(
        body["updated_at"]
    ), "changing only the tags is a change too"
    await client.patch(path, headers=author["headers"], json={"tags": ["C", "b"]})
    untouched = await client.patch(path, headers=author["headers"], json={"title": "Renamed"})
    assert untouched.json()["tags"] == ["b", "c"], "tags not sent: the set stays"
    cleared = await client.patch(path, headers=superuser["headers"], json={"tags": []})
    assert cleared.status_code == 200
    assert cleared.json()["tags"] == []
    assert (
        await client.patch(path, headers=author["headers"], json={"title": None})
    ).status_code == 422
    assert (
        await client.patch(path, headers=author["headers"], json={"title": ""})
    ).status_code == 422
    assert (
        await client.patch("/api/v1/posts/999999", headers=author["headers"], json={})
    ).status_code == 404


async def test_publish_and_unpublish(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    author = await make_user("publisher")
    post = await make_post(author["headers"], published=False)
    path = f"/api/v1/posts/{post['id']}"
    assert (await client.get(path)).status_code == 404
    await client.patch(path, headers=author["headers"], json={"published": True})
    assert (await client.get(path)).status_code == 200
    assert (await client.get("/api/v1/posts")).json()["total"] == 1
    await client.patch(path, headers=author["headers"], json={"published": False})
    assert (await client.get(path)).status_code == 404
    assert (await client.get("/api/v1/posts")).json()["total"] == 0


async def test_published_at_is_set_when_first_published_and_kept(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    author = await make_user("stamper")
    headers = author["headers"]
    live = await make_post(headers, published=True)
    assert live["published_at"] is not None
    assert live["published_at"] == live["created_at"]
    draft = await make_post(headers, published=False)
    assert draft["published_at"] is None
    path = f"/api/v1/posts/{draft['id']}"
    edited = (await client.patch(path, headers=headers, json={"title": "still a draft"})).json()
    assert edited["published_at"] is None
    first = (await client.patch(path, headers=headers, json={"published": True})).json()
    assert first["published_at"] is not None
    assert first["published_at"] > draft["created_at"]
    hidden = (await client.patch(path, headers=headers, json={"published": False})).json()
    assert hidden["published_at"] == first["published_at"]
    again = (await client.patch(path, headers=headers, json={"published": True})).json()
    assert again["published_at"] == first["published_at"]


async def test_description_is_optional_limited_and_removable(
    client: AsyncClient, make_user: UserFactory
) -> None:
    author = await make_user("describer")
    headers = author["headers"]
    body = {"title": "t", "content": "c", "description": "In short."}
    post = (await client.post("/api/v1/posts", headers=headers, json=body)).json()
    assert post["description"] == "In short."
    path = f"/api/v1/posts/{post['id']}"
    too_long = await client.patch(path, headers=headers, json={"description": "x" * 301})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["loc"] == ["body", "description"]
    exact = await client.patch(path, headers=headers, json={"description": "x" * 300})
    assert exact.json()["description"] == "x" * 300
    kept = await client.patch(path, headers=headers, json={"title": "t2"})
    assert kept.json()["description"] == "x" * 300
    removed = await client.patch(path, headers=headers, json={"description": None})
    assert removed.status_code == 200
    assert removed.json()["description"] is None
    plain = await client.post("/api/v1/posts", headers=headers, json={"title": "u", "content": "c"})
    assert plain.json()["description"] is None


async def test_delete_post_rules(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, superuser: dict[str, Any]
) -> None:
    author = await make_user("deleter")
    other = await make_user("bystander")
    first = await make_post(author["headers"], tags=["gone"])
    second = await make_post(author["headers"])
    assert (await client.delete(f"/api/v1/posts/{first['id']}")).status_code == 401
    assert (
        await client.delete(f"/api/v1/posts/{first['id']}", headers=other["headers"])
    ).status_code == 403
    response = await client.delete(f"/api/v1/posts/{first['id']}", headers=author["headers"])
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/v1/posts/{first['id']}")).status_code == 404
    assert (
        await client.delete(f"/api/v1/posts/{first['id']}", headers=author["headers"])
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/posts/{second['id']}", headers=superuser["headers"])
    ).status_code == 204
    assert (await client.get("/api/v1/tags")).json()["total"] == 0


async def test_list_shows_summaries_with_excerpt(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("lister")
    long_content = "x" * 150 + "y" * 150
    await make_post(user["headers"], content=long_content, tags=["b", "a"])
    page = (await client.get("/api/v1/posts")).json()
    item = page["items"][0]
    assert set(item) == SUMMARY_FIELDS
    assert item["excerpt"] == long_content[:199] + "\u2026"  # one word: cut inside it
    assert item["tags"] == ["a", "b"]
    assert item["author"]["username"] == "lister"
    assert "email" not in item["author"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("short and whole", "short and whole"),
        ("w" * 200, "w" * 200),  # exactly the limit: not cut
        ("word " * 60, ("word " * 40).rstrip() + "\u2026"),  # cut after a whole word
        ("ab " * 66 + "abcdef", ("ab " * 66).rstrip() + "\u2026"),  # the cut word is dropped
        ("w" * 250, "w" * 199 + "\u2026"),
    ],
)
async def test_excerpt_is_cut_at_a_word_boundary_with_an_ellipsis(
    client: AsyncClient, make_user: UserFactory, content: str, expected: str
) -> None:
    user = await make_user("excerpter")
    body = {"title": "t", "content": content, "published": True}
    assert (await client.post("/api/v1/posts", headers=user["headers"], json=body)).is_success
    item = (await client.get("/api/v1/posts")).json()["items"][0]
    assert item["excerpt"] == expected
    assert len(item["excerpt"]) <= 200


async def test_list_filters_combine_with_and(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    ann = await make_user("Ann")
    bob = await make_user("bob")
    await make_post(ann["headers"], title="Async Python tips", content="gather", tags=["python"])
    await make_post(
        ann["headers"], title="Cooking", content="Pasta with PYTHON sauce", tags=["food"]
    )
    await make_post(bob["headers"], title="More python", content="loops", tags=["python", "loops"])
    await make_post(bob["headers"], title="Draft python", published=False, tags=["python"])

    async def titles(**params: str) -> list[str]:
        response = await client.get("/api/v1/posts", params={"sort": "title", **params})
        assert response.status_code == 200, response.text
        return [p["title"] for p in response.json()["items"]]

    assert await titles(author="ann") == ["Async Python tips", "Cooking"]
    assert await titles(author="ANN") == ["Async Python tips", "Cooking"]
    assert await titles(tag="python") == ["Async Python tips", "More python"]
    assert await titles(tag=" Python ") == ["Async Python tips", "More python"]
    assert await titles(q="python") == ["Async Python tips", "Cooking", "More python"]
    assert await titles(q="PyThOn", author="ann") == ["Async Python tips", "Cooking"]
    assert await titles(q="python", tag="python", author="bob") == ["More python"]
    assert await titles(author="nobody") == []
    assert await titles(tag="no-such-tag") == []
    assert await titles(tag="not a valid tag!") == []
    assert await titles(q="%") == []
    assert await titles(q="_") == []


async def test_sort_orders_and_bad_sort(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("sorter")
    for title in ("banana", "Apple", "cherry"):
        await make_post(user["headers"], title=title)

    async def order(sort: str | None) -> list[str]:
        params = {"sort": sort} if sort else {}
        return [
            p["title"] for p in (await client.get("/api/v1/posts", params=params)).json()["items"]
        ]

    assert await order(None) == ["cherry", "Apple", "banana"]
    assert await order("-created_at") == ["cherry", "Apple", "banana"]
    assert await order("created_at") == ["banana", "Apple", "cherry"]
    by_title = await order("title")
    assert by_title == sorted(by_title, key=str.lower) or by_title == sorted(by_title)
    assert await order("-title") == list(reversed(by_title))
    bad = await client.get("/api/v1/posts", params={"sort": "likes"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "sort"]


async def test_my_posts_include_drafts_newest_first(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    me = await make_user("mine")
    other = await make_user("theirs")
    await make_post(me["headers"], title="one", published=True)
    await make_post(me["headers"], title="two", published=False)
    await make_post(other["headers"], title="not mine")
    response = await client.get("/api/v1/users/me/posts", headers=me["headers"])
    assert response.status_code == 200
    page = response.json()
    assert [p["title"] for p in page["items"]] == ["two", "one"]
    assert page["total"] == 2
    assert all(set(p) == SUMMARY_FIELDS for p in page["items"])
    assert (await client.get("/api/v1/users/me/posts")).status_code == 401


async def test_deleting_a_user_removes_their_posts_and_links(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    leaver = await make_user("leaver")
    stayer = await make_user("stayer")
    gone = await make_post(leaver["headers"], tags=["shared", "solo"])
    kept = await make_post(stayer["headers"], tags=["shared"])
    assert (await client.delete("/api/v1/users/me", headers=leaver["headers"])).status_code == 204
    assert (await client.get(f"/api/v1/posts/{gone['id']}")).status_code == 404
    assert (await client.get(f"/api/v1/posts/{kept['id']}")).status_code == 200
    tags = (await client.get("/api/v1/tags")).json()["items"]
    assert tags == [{"name": "shared", "post_count": 1}]


async def test_search_ignores_case_beyond_ascii(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("unicoder")
    await make_post(user["headers"], title="Über Straße", content="ÉCOLE Ωmega")
    await make_post(user["headers"], title="plain", content="nothing here")
    for q in ("über", "ÜBER", "école", "ωMEGA", "straße"):
        titles = [
            p["title"] for p in (await client.get("/api/v1/posts", params={"q": q})).json()["items"]
        ]
        assert titles == ["Über Straße"], q
