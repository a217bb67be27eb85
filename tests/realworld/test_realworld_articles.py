"""RealWorld face: the editor (create, update, delete), the article page, the global list with
its filters and pagination, and tags. Every answer is validated against the RealWorld spec."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.factories import UserFactory
from tests.helpers.realworld import check, create_article, errors_of, register

ARTICLE_FIELDS = {
    "slug",
    "title",
    "description",
    "body",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}


async def test_create_article_is_published_with_sorted_tags(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    article = await create_article(
        client, jake["headers"], tags=["training", "Dragons", "training"]
    )
    assert set(article) == ARTICLE_FIELDS
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["title"] == "How to train your dragon"
    assert article["description"] == "Ever wonder how?"
    assert article["body"] == "Very carefully."
    assert article["tagList"] == ["dragons", "training"]
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert article["author"] == {
        "username": "jake",
        "bio": None,
        "image": None,
        "following": False,
    }
    # Published: anyone sees it, on this face and on /api/v1.
    anonymous = await client.get(f"/api/articles/{article['slug']}")
    assert check(anonymous, "/articles/{slug}", 200)["article"] == article
    native = (await client.get(f"/api/v1/posts/by-slug/{article['slug']}")).json()
    assert native["published"] is True
    assert native["content"] == "Very carefully."


async def test_tag_list_omitted_is_no_tags_and_titles_may_repeat(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    first = await create_article(client, jake["headers"], "Same title")
    second = await create_article(client, jake["headers"], "Same title")
    assert first["tagList"] == []
    assert first["slug"] != second["slug"]
    assert second["slug"].startswith("same-title")


@pytest.mark.parametrize(
    ("article", "field"),
    [
        ({"title": "", "description": "desc", "body": "body", "tagList": []}, "title"),
        ({"title": "Some Title", "description": "", "body": "body", "tagList": []}, "description"),
        ({"title": "Some Title", "description": "desc", "body": "", "tagList": []}, "body"),
        ({"title": "   ", "description": "desc", "body": "body"}, "title"),
        ({"description": "desc", "body": "body"}, "title"),
        ({"title": "Some Title", "description": "desc"}, "body"),
        ({"title": "Some Title", "description": None, "body": "body"}, "description"),
    ],
)
async def test_create_article_with_a_blank_field_is_422_cant_be_blank(
    client: AsyncClient, article: dict[str, Any], field: str
) -> None:
    jake = await register(client, "jake")
    response = await client.post(
        "/api/articles", json={"article": article}, headers=jake["headers"]
    )
    assert errors_of(response, "/articles", 422)[field] == ["can't be blank"]
    listed = check(await client.get("/api/articles"), "/articles", 200)
    assert listed["articlesCount"] == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"title": "t" * 201}, "title"),
        ({"description": "d" * 301}, "description"),
        ({"tagList": ["bad tag"]}, "tagList"),
        ({"tagList": [f"t{i}" for i in range(11)]}, "tagList"),
        ({"tagList": None}, "tagList"),
        ({"tagList": "dragons"}, "tagList"),
    ],
)
async def test_create_article_breaking_a_native_rule_is_422(
    client: AsyncClient, extra: dict[str, Any], field: str
) -> None:
    jake = await register(client, "jake")
    article = {"title": "A title", "description": "desc", "body": "body", **extra}
    response = await client.post(
        "/api/articles", json={"article": article}, headers=jake["headers"]
    )
    assert field in errors_of(response, "/articles", 422)


async def test_article_without_token_is_401_before_anything_else(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    article = await create_article(client, jake["headers"])
    slug = article["slug"]
    body = {"article": {"body": "updated body"}}
    for response, template in [
        (await client.post("/api/articles", json={"article": {}}), "/articles"),
        (await client.put(f"/api/articles/{slug}", json=body), "/articles/{slug}"),
        (await client.put("/api/articles/nonexistent-slug-xxx", json=body), "/articles/{slug}"),
        (await client.delete(f"/api/articles/{slug}"), "/articles/{slug}"),
        (await client.delete("/api/articles/nonexistent-slug-xxx"), "/articles/{slug}"),
    ]:
        assert errors_of(response, template, 401) == {"token": ["is missing"]}
    still = await client.get(f"/api/articles/{slug}")
    assert check(still, "/articles/{slug}", 200)["article"]["body"] == "Very carefully."


async def test_unknown_article_is_404_article_not_found(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    headers = jake["headers"]
    for response in [
        await client.get("/api/articles/nonexistent-slug-xxx"),
        await client.get("/api/articles/Not A Slug!"),
        await client.put(
            "/api/articles/nonexistent-slug-xxx", json={"article": {"body": "b"}}, headers=headers
        ),
        await client.delete("/api/articles/nonexistent-slug-xxx", headers=headers),
    ]:
        assert errors_of(response, "/articles/{slug}", 404) == {"article": ["not found"]}


async def test_other_users_article_is_403_article_forbidden(client: AsyncClient) -> None:
    celeb = await register(client, "celeb")
    jake = await register(client, "jake")
    article = await create_article(client, celeb["headers"], "Celeb article")
    slug = article["slug"]
    hijack = await client.put(
        f"/api/articles/{slug}", json={"article": {"body": "hijacked"}}, headers=jake["headers"]
    )
    assert errors_of(hijack, "/articles/{slug}", 403) == {"article": ["forbidden"]}
    delete = await client.delete(f"/api/articles/{slug}", headers=jake["headers"])
    assert errors_of(delete, "/articles/{slug}", 403) == {"article": ["forbidden"]}
    after = check(await client.get(f"/api/articles/{slug}"), "/articles/{slug}", 200)["article"]
    assert after == article


async def test_update_article_is_partial_and_keeps_created_at(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    headers = jake["headers"]
    article = await create_article(client, headers, tags=["dragons", "training"])
    slug = article["slug"]

    response = await client.put(
        f"/api/articles/{slug}", json={"article": {"body": "With two hands"}}, headers=headers
    )
    updated = check(response, "/articles/{slug}", 200)["article"]
    assert updated["body"] == "With two hands"
    assert updated["title"] == article["title"]
    assert updated["description"] == article["description"]
    assert updated["tagList"] == ["dragons", "training"]  # omitted: kept
    assert updated["createdAt"] == article["createdAt"]
    assert updated["updatedAt"] > article["updatedAt"]
    read_back = check(await client.get(f"/api/articles/{slug}"), "/articles/{slug}", 200)
    assert read_back["article"] == updated

    response = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"title": "Did you train your dragon?", "tagList": []}},
        headers=headers,
    )
    retitled = check(response, "/articles/{slug}", 200)["article"]
    assert retitled["title"] == "Did you train your dragon?"
    assert retitled["slug"] == slug  # links keep working
    assert retitled["tagList"] == []  # [] clears
    assert retitled["createdAt"] == article["createdAt"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"body": "  "}, "body"),
        ({"description": ""}, "description"),
        ({"tagList": None}, "tagList"),
        ({"tagList": ["no spaces allowed"]}, "tagList"),
    ],
)
async def test_update_article_refuses_blank_or_null_and_changes_nothing(
    client: AsyncClient, change: dict[str, Any], field: str
) -> None:
    jake = await register(client, "jake")
    article = await create_article(client, jake["headers"], tags=["dragons"])
    response = await client.put(
        f"/api/articles/{article['slug']}", json={"article": change}, headers=jake["headers"]
    )
    assert field in errors_of(response, "/articles/{slug}", 422)
    after = await client.get(f"/api/articles/{article['slug']}")
    assert check(after, "/articles/{slug}", 200)["article"] == article


async def test_delete_article_is_204_and_then_it_is_gone(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    article = await create_article(client, jake["headers"])
    response = await client.delete(f"/api/articles/{article['slug']}", headers=jake["headers"])
    check(response, "/articles/{slug}", 204)
    gone = await client.get(f"/api/articles/{article['slug']}")
    assert errors_of(gone, "/articles/{slug}", 404) == {"article": ["not found"]}
    again = await client.delete(f"/api/articles/{article['slug']}", headers=jake["headers"])
    assert errors_of(again, "/articles/{slug}", 404) == {"article": ["not found"]}


async def test_drafts_do_not_exist_on_this_face(
    client: AsyncClient, make_user: UserFactory
) -> None:
    author = await make_user("drafter")
    draft = (
        await client.post(
            "/api/v1/posts",
            json={"title": "Secret draft", "content": "Not yet."},
            headers=author["headers"],
        )
    ).json()
    token = author["headers"]["Authorization"].removeprefix("Bearer ")
    mine = {"Authorization": f"Token {token}"}
    for response in [
        await client.get(f"/api/articles/{draft['slug']}", headers=mine),
        await client.put(
            f"/api/articles/{draft['slug']}", json={"article": {"body": "x"}}, headers=mine
        ),
        await client.delete(f"/api/articles/{draft['slug']}", headers=mine),
    ]:
        assert errors_of(response, "/articles/{slug}", 404) == {"article": ["not found"]}
    listed = check(await client.get("/api/articles?author=drafter"), "/articles", 200)
    assert listed == {"articles": [], "articlesCount": 0}


async def test_native_post_without_description_shows_an_empty_one(
    client: AsyncClient, make_user: UserFactory, make_post: Any
) -> None:
    author = await make_user("native")
    post = await make_post(author["headers"], title="Native post")
    article = check(await client.get(f"/api/articles/{post['slug']}"), "/articles/{slug}", 200)
    assert article["article"]["description"] == ""
    assert article["article"]["body"] == "Some content."


async def test_global_list_pages_with_limit_and_offset_and_exact_count(
    client: AsyncClient,
) -> None:
    jake = await register(client, "jake")
    celeb = await register(client, "celeb")
    slugs = []
    for i in range(5):
        author = jake if i % 2 == 0 else celeb
        tags = ["dragons"] if i < 3 else ["testing"]
        slugs.append(
            (await create_article(client, author["headers"], f"Article {i}", tags=tags))["slug"]
        )
    newest_first = list(reversed(slugs))

    everything = check(await client.get("/api/articles"), "/articles", 200)
    assert everything["articlesCount"] == 5
    assert [a["slug"] for a in everything["articles"]] == newest_first
    for item in everything["articles"]:
        assert "body" not in item  # list items carry no body
        assert set(item) == ARTICLE_FIELDS - {"body"}

    walked = []
    for offset in range(0, 6, 2):
        page = check(await client.get(f"/api/articles?limit=2&offset={offset}"), "/articles", 200)
        assert page["articlesCount"] == 5  # the total, not the page length
        walked += [a["slug"] for a in page["articles"]]
    assert walked == newest_first
    odd = check(await client.get("/api/articles?limit=1&offset=3"), "/articles", 200)
    assert [a["slug"] for a in odd["articles"]] == [newest_first[3]]
    past = check(await client.get("/api/articles?offset=50"), "/articles", 200)
    assert past == {"articles": [], "articlesCount": 5}

    by_tag = check(await client.get("/api/articles?tag=dragons&limit=1"), "/articles", 200)
    assert by_tag["articlesCount"] == 3
    assert [a["slug"] for a in by_tag["articles"]] == [slugs[2]]
    by_author = check(await client.get("/api/articles?author=celeb"), "/articles", 200)
    assert [a["slug"] for a in by_author["articles"]] == [slugs[3], slugs[1]]
    both = check(await client.get("/api/articles?author=jake&tag=testing"), "/articles", 200)
    assert [a["slug"] for a in both["articles"]] == [slugs[4]]
    for unknown in ("author=johnjacob", "tag=nothing", "favorited=johnjacob", "tag=No%20Such"):
        empty = check(await client.get(f"/api/articles?{unknown}"), "/articles", 200)
        assert empty == {"articles": [], "articlesCount": 0}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=x", "offset=1.5"])
async def test_out_of_range_limit_or_offset_is_422(client: AsyncClient, query: str) -> None:
    response = await client.get(f"/api/articles?{query}")
    assert list(errors_of(response, "/articles", 422)) == [query.split("=")[0]]


async def test_empty_filters_are_no_filters(client: AsyncClient) -> None:
    """Front-ends send `?tag=&author=&favorited=` when no filter is chosen: each empty one is
    left out, on the global list (the others still apply) and on the feed alike."""
    jake = await register(client, "jake")
    celeb = await register(client, "celeb")
    dragons = await create_article(client, celeb["headers"], "Dragons", tags=["dragons"])
    await create_article(client, celeb["headers"], "Cats", tags=["cats"])
    everything = check(await client.get("/api/articles"), "/articles", 200)
    assert everything["articlesCount"] == 2
    for query in ("tag=&author=&favorited=", "tag=", "author=", "favorited="):
        listed = check(await client.get(f"/api/articles?{query}"), "/articles", 200)
        assert listed == everything, query
    tagged = check(
        await client.get("/api/articles?tag=dragons&author=&favorited="), "/articles", 200
    )
    assert [a["slug"] for a in tagged["articles"]] == [dragons["slug"]]
    by_author = check(await client.get("/api/articles?tag=&author=jake"), "/articles", 200)
    assert by_author == {"articles": [], "articlesCount": 0}

    followed = await client.post("/api/profiles/celeb/follow", headers=jake["headers"])
    check(followed, "/profiles/{username}/follow", 200)
    feed = check(
        await client.get("/api/articles/feed", headers=jake["headers"]), "/articles/feed", 200
    )
    assert feed["articlesCount"] == 2
    unfiltered = await client.get(
        "/api/articles/feed?tag=&author=&favorited=", headers=jake["headers"]
    )
    assert check(unfiltered, "/articles/feed", 200) == feed
