"""RealWorld face: profiles and follows, the home feed, favorites and comments (the article page),
and a front-end's whole journey. Every answer is validated against the RealWorld spec."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.helpers.realworld import check, create_article, errors_of, register


async def test_profile_follow_and_unfollow(client: AsyncClient) -> None:
    celeb = await register(client, "celeb_u1")
    jake = await register(client, "jake")
    url = "/api/profiles/celeb_u1"

    anonymous = check(await client.get(url), "/profiles/{username}", 200)["profile"]
    assert anonymous == {"username": "celeb_u1", "bio": None, "image": None, "following": False}
    for _ in range(2):  # following twice is following once
        followed = await client.post(f"{url}/follow", headers=jake["headers"], json={})
        assert check(followed, "/profiles/{username}/follow", 200)["profile"]["following"] is True
    seen = check(await client.get(url, headers=jake["headers"]), "/profiles/{username}", 200)
    assert seen["profile"]["following"] is True
    # Case does not matter in a username.
    upper = check(
        await client.get("/api/profiles/CELEB_U1", headers=jake["headers"]),
        "/profiles/{username}",
        200,
    )
    assert upper["profile"]["username"] == "celeb_u1"
    # Another reader does not follow them.
    theirs = check(await client.get(url, headers=celeb["headers"]), "/profiles/{username}", 200)
    assert theirs["profile"]["following"] is False

    for _ in range(2):  # unfollowing twice is fine
        unfollowed = await client.delete(f"{url}/follow", headers=jake["headers"])
        assert (
            check(unfollowed, "/profiles/{username}/follow", 200)["profile"]["following"] is False
        )
    after = check(await client.get(url, headers=jake["headers"]), "/profiles/{username}", 200)
    assert after["profile"]["following"] is False


async def test_profile_errors(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    await register(client, "celeb")
    unknown = await client.get("/api/profiles/nonexistent-user-xxx")
    assert errors_of(unknown, "/profiles/{username}", 404) == {"profile": ["not found"]}
    for method in ("POST", "DELETE"):
        # Auth before existence: without a token, an unknown profile is a 401 too.
        for name in ("celeb", "nonexistent-user-xxx"):
            response = await client.request(method, f"/api/profiles/{name}/follow")
            assert errors_of(response, "/profiles/{username}/follow", 401) == {
                "token": ["is missing"]
            }
        response = await client.request(
            method, "/api/profiles/nonexistent-user-xxx/follow", headers=jake["headers"]
        )
        assert errors_of(response, "/profiles/{username}/follow", 404) == {"profile": ["not found"]}
    self_follow = await client.post("/api/profiles/jake/follow", headers=jake["headers"])
    assert list(errors_of(self_follow, "/profiles/{username}/follow", 422)) == ["username"]


async def test_home_feed_shows_followed_authors_newest_first_with_pagination(
    client: AsyncClient,
) -> None:
    celeb = await register(client, "celeb")
    other = await register(client, "other")
    jake = await register(client, "jake")
    first = await create_article(client, celeb["headers"], "Celeb article one")
    await create_article(client, other["headers"], "Not followed")
    second = await create_article(client, celeb["headers"], "Celeb article two")

    empty = check(
        await client.get("/api/articles/feed", headers=jake["headers"]), "/articles/feed", 200
    )
    assert empty == {"articles": [], "articlesCount": 0}

    await client.post("/api/profiles/celeb/follow", headers=jake["headers"])
    feed = check(
        await client.get("/api/articles/feed", headers=jake["headers"]), "/articles/feed", 200
    )
    assert [a["slug"] for a in feed["articles"]] == [second["slug"], first["slug"]]
    assert feed["articlesCount"] == 2
    for item in feed["articles"]:
        assert "body" not in item
        assert item["author"]["username"] == "celeb"
        assert item["author"]["following"] is True

    page = await client.get("/api/articles/feed?limit=1", headers=jake["headers"])
    limited = check(page, "/articles/feed", 200)
    assert [a["slug"] for a in limited["articles"]] == [second["slug"]]
    assert limited["articlesCount"] == 2
    page = await client.get("/api/articles/feed?limit=1&offset=1", headers=jake["headers"])
    offset = check(page, "/articles/feed", 200)
    assert [a["slug"] for a in offset["articles"]] == [first["slug"]]
    assert offset["articlesCount"] == 2

    # The global list shows the same author as followed, to this reader only.
    listed = check(
        await client.get("/api/articles?author=celeb", headers=jake["headers"]), "/articles", 200
    )
    assert all(a["author"]["following"] for a in listed["articles"])
    anonymous = check(await client.get("/api/articles?author=celeb"), "/articles", 200)
    assert not any(a["author"]["following"] for a in anonymous["articles"])


async def test_feed_needs_a_token(client: AsyncClient) -> None:
    response = await client.get("/api/articles/feed")
    assert errors_of(response, "/articles/feed", 401) == {"token": ["is missing"]}
    await register(client, "jake")
    bad = await client.get("/api/articles/feed?limit=0", headers={"Authorization": "Token x"})
    assert list(errors_of(bad, "/articles/feed", 401)) == ["token"]


async def test_favorite_and_unfavorite_with_counts_and_the_favorited_filter(
    client: AsyncClient,
) -> None:
    jake = await register(client, "jake")
    fan = await register(client, "fan")
    article = await create_article(client, jake["headers"], tags=["dragons"])
    other = await create_article(client, jake["headers"], "Another one")
    url = f"/api/articles/{article['slug']}/favorite"

    for _ in range(2):  # favoriting twice is favoriting once
        favorited = check(
            await client.post(url, headers=fan["headers"]), "/articles/{slug}/favorite", 200
        )
        assert favorited["article"]["favorited"] is True
        assert favorited["article"]["favoritesCount"] == 1
    mine = check(await client.post(url, headers=jake["headers"]), "/articles/{slug}/favorite", 200)
    assert mine["article"]["favoritesCount"] == 2

    by_fan = check(await client.get("/api/articles?favorited=fan"), "/articles", 200)
    assert [a["slug"] for a in by_fan["articles"]] == [article["slug"]]
    assert by_fan["articlesCount"] == 1
    assert by_fan["articles"][0]["favorited"] is False  # anonymous reader
    assert by_fan["articles"][0]["favoritesCount"] == 2
    as_fan = check(await client.get("/api/articles", headers=fan["headers"]), "/articles", 200)
    flags = {a["slug"]: a["favorited"] for a in as_fan["articles"]}
    assert flags == {article["slug"]: True, other["slug"]: False}

    for _ in range(2):  # unfavoriting twice is fine
        undone = check(
            await client.delete(url, headers=fan["headers"]), "/articles/{slug}/favorite", 200
        )
        assert undone["article"]["favorited"] is False
        assert undone["article"]["favoritesCount"] == 1
    page = check(
        await client.get(f"/api/articles/{article['slug']}", headers=fan["headers"]),
        "/articles/{slug}",
        200,
    )
    assert page["article"]["favorited"] is False
    assert page["article"]["favoritesCount"] == 1
    none = check(await client.get("/api/articles?favorited=fan"), "/articles", 200)
    assert none == {"articles": [], "articlesCount": 0}


async def test_favorite_errors(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    article = await create_article(client, jake["headers"])
    for method in ("POST", "DELETE"):
        for slug in (article["slug"], "nonexistent-slug-xxx"):
            response = await client.request(method, f"/api/articles/{slug}/favorite")
            assert errors_of(response, "/articles/{slug}/favorite", 401) == {
                "token": ["is missing"]
            }
        response = await client.request(
            method, "/api/articles/nonexistent-slug-xxx/favorite", headers=jake["headers"]
        )
        assert errors_of(response, "/articles/{slug}/favorite", 404) == {"article": ["not found"]}


async def test_comment_authors_show_whether_the_reader_follows_them(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    reader = await register(client, "reader")
    article = await create_article(client, jake["headers"])
    url = f"/api/articles/{article['slug']}/comments"

    empty = check(await client.get(url), "/articles/{slug}/comments", 200)
    assert empty == {"comments": []}
    first = check(
        await client.post(
            url, json={"comment": {"body": "Thank you so much!"}}, headers=reader["headers"]
        ),
        "/articles/{slug}/comments",
        201,
    )["comment"]
    assert first["body"] == "Thank you so much!"
    assert first["author"] == {"username": "reader", "bio": None, "image": None, "following": False}
    await client.post("/api/profiles/jake/follow", headers=reader["headers"])
    second = check(
        await client.post(url, json={"comment": {"body": "Mine"}}, headers=jake["headers"]),
        "/articles/{slug}/comments",
        201,
    )["comment"]

    for _ in range(30):  # listed whole, never paged
        await client.post(url, json={"comment": {"body": "more"}}, headers=jake["headers"])
    listed = check(
        await client.get(url, headers=reader["headers"]), "/articles/{slug}/comments", 200
    )
    comments = listed["comments"]
    assert len(comments) == 32
    assert [c["id"] for c in comments[:2]] == [first["id"], second["id"]]  # oldest first
    assert comments[0] == first
    assert comments[1]["author"]["following"] is True  # the reader follows jake
    anonymous = check(await client.get(url), "/articles/{slug}/comments", 200)["comments"]
    assert anonymous[1]["author"]["following"] is False

    # The comment's author deletes it; then it is gone.
    gone = await client.delete(f"{url}/{first['id']}", headers=reader["headers"])
    check(gone, "/articles/{slug}/comments/{id}", 204)
    again = await client.delete(f"{url}/{first['id']}", headers=reader["headers"])
    assert errors_of(again, "/articles/{slug}/comments/{id}", 404) == {"comment": ["not found"]}
    after = check(await client.get(url), "/articles/{slug}/comments", 200)["comments"]
    assert first["id"] not in [c["id"] for c in after]


async def test_deleting_an_article_deletes_its_comments_and_favorites(client: AsyncClient) -> None:
    jake = await register(client, "jake")
    fan = await register(client, "fan")
    article = await create_article(client, jake["headers"], tags=["dragons"])
    slug = article["slug"]
    await client.post(f"/api/articles/{slug}/favorite", headers=fan["headers"])
    await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "hi"}}, headers=fan["headers"]
    )
    check(
        await client.delete(f"/api/articles/{slug}", headers=jake["headers"]),
        "/articles/{slug}",
        204,
    )
    assert (
        check(await client.get("/api/articles?favorited=fan"), "/articles", 200)["articlesCount"]
        == 0
    )
    comments = await client.get(f"/api/articles/{slug}/comments")
    assert errors_of(comments, "/articles/{slug}/comments", 404) == {"article": ["not found"]}
    assert check(await client.get("/api/tags"), "/tags", 200) == {"tags": []}


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
async def test_a_front_ends_whole_journey(client: AsyncClient, scheme: str) -> None:
    """Sign up, write an article with tags, see it in the global feed and by tag, favorite it
    from another account, comment, follow, see it in that account's feed, edit settings,
    delete."""
    author = await register(client, "author")
    reader = await register(client, "reader")
    a_headers = {"Authorization": f"{scheme} {author['token']}"}
    r_headers = {"Authorization": f"{scheme} {reader['token']}"}

    article = await create_article(client, a_headers, "Hello RealWorld", tags=["intro", "python"])
    home = check(await client.get("/api/articles?limit=10&offset=0"), "/articles", 200)
    assert home["articles"][0]["slug"] == article["slug"]
    by_tag = check(await client.get("/api/articles?tag=python&limit=10&offset=0"), "/articles", 200)
    assert [a["slug"] for a in by_tag["articles"]] == [article["slug"]]
    assert "python" in check(await client.get("/api/tags"), "/tags", 200)["tags"]

    slug = article["slug"]
    fav = check(
        await client.post(f"/api/articles/{slug}/favorite", headers=r_headers),
        "/articles/{slug}/favorite",
        200,
    )
    assert fav["article"]["favoritesCount"] == 1
    said = await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "Nice!"}}, headers=r_headers
    )
    check(said, "/articles/{slug}/comments", 201)
    check(
        await client.post("/api/profiles/author/follow", headers=r_headers),
        "/profiles/{username}/follow",
        200,
    )
    feed = check(
        await client.get("/api/articles/feed?limit=10&offset=0", headers=r_headers),
        "/articles/feed",
        200,
    )
    assert [a["slug"] for a in feed["articles"]] == [slug]
    assert feed["articles"][0]["favorited"] is True

    settings = await client.put(
        "/api/user",
        json={
            "user": {
                "bio": "Writer",
                "username": "the_author",
                "email": "a@example.com",
                "password": "new password!",
            }
        },
        headers=a_headers,
    )
    fresh = check(settings, "/user", 200)["user"]
    new_headers = {"Authorization": f"{scheme} {fresh['token']}"}
    profile = check(
        await client.get("/api/profiles/the_author", headers=r_headers), "/profiles/{username}", 200
    )
    assert profile["profile"] == {
        "username": "the_author",
        "bio": "Writer",
        "image": None,
        "following": True,
    }
    check(
        await client.delete(f"/api/articles/{slug}", headers=new_headers), "/articles/{slug}", 204
    )
    gone = check(await client.get("/api/articles/feed", headers=r_headers), "/articles/feed", 200)
    assert gone == {"articles": [], "articlesCount": 0}
