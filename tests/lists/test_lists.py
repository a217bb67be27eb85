"""The list kit on every list: cursors (good, bad, foreign), orders, the read rows' fields."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from blog_api.kit.db import Access, transaction
from blog_api.kit.listing import Window
from blog_api.models import Favorite, Follow, Post, User
from blog_api.posts.deps import post_service
from blog_api.tags.deps import tag_service
from tests.helpers.api import comment, favorite, follow
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import SORTS, b64, seed_posts, walk

CURSOR_LISTS = ["/api/v1/posts", "/api/v1/users/me/posts", "/api/v1/users", "/api/v1/tags"]


BAD_CURSORS = [
    b64(b"[" * 3000),  # nested past the JSON parser's recursion limit
    b64(b"{" * 1500),
    b64(b'{"l":' * 1000),
    b64(b"\xff\xfe\x00garbage"),  # not UTF-8
    b64(b"null"),
    b64(b'{"l":"posts","s":"-published_at","k":[["x"],1]}'),
    b64(b'{"l":"posts","s":"-published_at","k":["2026-01-01T00:00:00Z"]}'),
    b64(b'{"l":"posts","s":"-published_at","k":["2026-01-01T00:00:00Z",1,2]}'),
    "%%%",
    "",
]


@pytest.fixture
async def member(make_user: UserFactory) -> dict[str, Any]:
    return await make_user("member")


@pytest.mark.parametrize("path", CURSOR_LISTS)
@pytest.mark.parametrize("cursor", BAD_CURSORS)
async def test_any_malformed_cursor_is_a_quiet_422_on_every_list(
    client: AsyncClient,
    member: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    path: str,
    cursor: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        response = await client.get(path, params={"cursor": cursor}, headers=member["headers"])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_cursor_of_one_list_is_a_422_on_another(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    users = [await make_user(f"lister{i}") for i in range(3)]
    for i in range(3):
        await make_post(users[0]["headers"], title=f"p{i}", tags=[f"t{i}"])
    cursors = {}
    for path in CURSOR_LISTS:
        body = (await client.get(path, params={"per_page": 1}, headers=users[0]["headers"])).json()
        assert body["next_cursor"] is not None, path
        cursors[path] = body["next_cursor"]
    for made_on, cursor in cursors.items():
        for path in CURSOR_LISTS:
            response = await client.get(
                path, params={"cursor": cursor}, headers=users[0]["headers"]
            )
            # /posts and /users/me/posts share the posts list, with different sorts.
            same = made_on == path
            assert response.status_code == (200 if same else 422), (made_on, path)


async def test_users_walk_by_cursor_newest_first(
    client: AsyncClient, make_user: UserFactory
) -> None:
    made = [await make_user(f"walker{i}") for i in range(7)]
    items = await walk(client, "/api/v1/users", per_page=3)
    assert [u["id"] for u in items] == [u["id"] for u in reversed(made)]
    page = (await client.get("/api/v1/users", params={"per_page": 3, "page": 3})).json()
    assert (page["total"], page["pages"], len(page["items"])) == (7, 3, 1)
    assert page["next_cursor"] is None


async def test_tags_walk_by_cursor_most_used_first_then_by_name(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("tagger")
    uses = {"b-x": 3, "a_y": 3, "ab": 3, "c": 2, "d": 1, "e": 1}
    for i in range(3):
        await make_post(user["headers"], title=f"p{i}", tags=[t for t, n in uses.items() if n > i])
    await make_post(user["headers"], title="draft", published=False, tags=["hidden"])
    items = await walk(client, "/api/v1/tags", per_page=2)
    # Names compare bytewise on both databases: '-' < '_' < letters.
    assert [(t["name"], t["post_count"]) for t in items] == [
        ("a_y", 3),
        ("ab", 3),
        ("b-x", 3),
        ("c", 2),
        ("d", 1),
        ("e", 1),
    ]
    first = (await client.get("/api/v1/tags", params={"per_page": 4})).json()
    assert (first["total"], first["pages"]) == (6, 2)


async def test_title_order_ignores_case_the_same_way_everywhere(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("titles")
    for title in ("Zebra", "apple pie", "Banana", "ÉCLAIR", "eclair", "Straße", "strasse a"):
        await make_post(user["headers"], title=title)
    titles = [
        p["title"]
        for p in await walk(client, "/api/v1/posts", per_page=2, params={"sort": "title"})
    ]
    assert titles == ["apple pie", "Banana", "eclair", "Straße", "strasse a", "Zebra", "ÉCLAIR"]
    backwards = await walk(client, "/api/v1/posts", per_page=3, params={"sort": "-title"})
    assert [p["title"] for p in backwards] == titles[::-1]


async def test_publishing_an_old_draft_puts_it_first(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("drafter")
    old = await make_post(user["headers"], title="written last week", published=False)
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        week_ago = datetime.now(UTC) - timedelta(days=7)
        await session.execute(update(Post).where(Post.id == old["id"]).values(created_at=week_ago))
    for i in range(3):
        await make_post(user["headers"], title=f"recent {i}")
    response = await client.patch(
        f"/api/v1/posts/{old['id']}", json={"published": True}, headers=user["headers"]
    )
    assert response.status_code == 200
    default = (await client.get("/api/v1/posts")).json()["items"]
    assert [p["title"] for p in default] == [
        "written last week",
        "recent 2",
        "recent 1",
        "recent 0",
    ]
    by_creation = (await client.get("/api/v1/posts", params={"sort": "-created_at"})).json()
    assert by_creation["items"][-1]["title"] == "written last week"
    oldest_published = await walk(
        client, "/api/v1/posts", per_page=1, params={"sort": "published_at"}
    )
    assert [p["title"] for p in oldest_published] == [
        "recent 0",
        "recent 1",
        "recent 2",
        "written last week",
    ]
    mine = (await client.get("/api/v1/users/me/posts", headers=user["headers"])).json()
    assert mine["items"][-1]["title"] == "written last week"  # newest written first


async def test_counts_and_the_viewers_flags_in_lists_posts_and_profiles(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    ann = await make_user("ann")
    bob = await make_user("bob")
    cat = await make_user("cat")
    liked = await make_post(ann["headers"], title="liked")
    plain = await make_post(ann["headers"], title="plain")
    await make_post(bob["headers"], title="bob's")
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        session.add_all(
            [
                Favorite(user_id=bob["id"], post_id=liked["id"]),
                Favorite(user_id=cat["id"], post_id=liked["id"]),
                Follow(follower_id=bob["id"], followed_id=ann["id"]),
                Follow(follower_id=cat["id"], followed_id=ann["id"]),
                Follow(follower_id=ann["id"], followed_id=bob["id"]),
            ]
        )
    as_bob = (await client.get("/api/v1/posts", headers=bob["headers"])).json()["items"]
    flags = {p["title"]: (p["favorites_count"], p["favorited"]) for p in as_bob}
    assert flags == {"liked": (2, True), "plain": (0, False), "bob's": (0, False)}
    anonymous = (await client.get(f"/api/v1/posts/{liked['id']}")).json()
    assert (anonymous["favorites_count"], anonymous["favorited"]) == (2, False)
    as_cat = (await client.get(f"/api/v1/posts/{liked['id']}", headers=cat["headers"])).json()
    assert as_cat["favorited"] is True
    by_slug = await client.get(f"/api/v1/posts/by-slug/{liked['slug']}", headers=cat["headers"])
    assert by_slug.json() == as_cat

    favorited = (await client.get("/api/v1/posts", params={"favorited_by": "BOB"})).json()
    assert [p["id"] for p in favorited["items"]] == [liked["id"]]
    assert favorited["total"] == 1
    nobody = await client.get("/api/v1/posts", params={"favorited_by": "nobody-here"})
    assert nobody.json()["items"] == []
    invalid = await client.get("/api/v1/posts", params={"favorited_by": "no spaces!"})
    assert invalid.status_code == 200
    assert invalid.json()["total"] == 0

    profile = (await client.get(f"/api/v1/users/{ann['id']}", headers=bob["headers"])).json()
    assert {k: profile[k] for k in ("posts_count", "followers_count", "following_count")} == {
        "posts_count": 2,
        "followers_count": 2,
        "following_count": 1,
    }
    assert profile["following"] is True
    assert (await client.get(f"/api/v1/users/{ann['id']}")).json()["following"] is False
    by_name = await client.get("/api/v1/users/by-username/ANN", headers=bob["headers"])
    assert by_name.status_code == 200
    assert by_name.json() == profile
    assert (await client.get("/api/v1/users/by-username/nobody")).status_code == 404
    assert (await client.get("/api/v1/users/by-username/bad%20name")).status_code == 404
    assert plain["favorites_count"] == 0


async def test_feed_lists_the_followed_authors_published_posts(
    app: FastAPI, make_user: UserFactory, make_post: PostFactory
) -> None:
    reader = await make_user("reader")
    followed = await make_user("followed")
    other = await make_user("other")
    for user, title in ((followed, "in"), (other, "out"), (followed, "in too")):
        await make_post(user["headers"], title=title)
    await make_post(followed["headers"], title="draft", published=False)
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        session.add(Follow(follower_id=reader["id"], followed_id=followed["id"]))
    async with transaction(app.state.session_factory, Access.READ) as session:
        service = post_service(session)
        me = await session.get_one(User, reader["id"])
        page = await service.list_feed(me, Window(per_page=1))
        assert [p.title for p in page.items] == ["in too"]
        assert page.total == 2
        assert page.next_cursor is not None
        rest = await service.list_feed(me, Window(per_page=5, cursor=page.next_cursor))
        assert [p.title for p in rest.items] == ["in"]


async def test_one_statement_per_page_whatever_per_page_is(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, statements: list[str]
) -> None:
    user = await make_user("counted")
    await seed_posts(app, user["id"], 60, tags_per_post=3)
    await make_user("another")  # so that the users list has a second page
    first = (await client.get("/api/v1/posts", params={"per_page": 1})).json()
    cursor = first["next_cursor"]
    for per_page in (1, 20, 59):
        for params in ({"per_page": per_page}, {"per_page": per_page, "cursor": cursor}):
            statements.clear()
            response = await client.get("/api/v1/posts", params=params)
            assert len(response.json()["items"]) == per_page
            assert all(len(p["tags"]) == 3 for p in response.json()["items"])
            assert all(p["status"] == "published" for p in response.json()["items"])
            assert len(statements) == 1, statements
    # A logged-in caller costs one statement more: authentication's own lookup of the user.
    for path, cost in (("/api/v1/users", 1), ("/api/v1/tags", 1), ("/api/v1/users/me/posts", 2)):
        headers = user["headers"] if cost == 2 else None
        page_one = (await client.get(path, params={"per_page": 1}, headers=headers)).json()
        statements.clear()
        response = await client.get(
            path, params={"per_page": 1, "cursor": page_one["next_cursor"]}, headers=headers
        )
        assert response.status_code == 200
        assert len(statements) == cost, (path, statements)
    statements.clear()
    assert (await client.get(f"/api/v1/posts/{first['items'][0]['id']}")).status_code == 200
    assert (await client.get(f"/api/v1/users/{user['id']}")).status_code == 200
    assert len(statements) == 2, statements


async def test_offset_window_counts_from_a_row_with_the_exact_total(
    app: FastAPI, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("offsetter")
    for i in range(5):
        await make_post(user["headers"], title=f"o{i}")
    async with transaction(app.state.session_factory, Access.READ) as session:
        service = post_service(session)
        page = await service.list_published(None, Window(per_page=2, offset=1))
        assert [p.title for p in page.items] == ["o3", "o2"]
        assert (page.total, page.page) == (5, None)
        past = await service.list_published(None, Window(per_page=2, offset=10**12))
        assert (list(past.items), past.total) == ([], 5)
        tagged = await service.list_published(None, Window(per_page=2, offset=4), tag="none")
        assert (list(tagged.items), tagged.total) == ([], 0)
        assert await tag_service(session).names_in_use() == []


async def test_every_list_walked_by_page_number_gives_what_its_cursors_give(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    """Pages past the first find their rows on the sort keys before reading them whole
    (listing.Listing, "deep" mode): on every list, page 2, 3, ... hold exactly the rows, in
    the order, that walking by cursor hands out."""
    me = await make_user("walker")
    others = [await make_user(f"other{i}") for i in range(5)]
    for i, other in enumerate(others):
        await follow(client, other["id"], me["headers"])
        await follow(client, me["id"], other["headers"])
        await make_post(other["headers"], title=f"Theirs {i}", tags=[f"t{i}", "shared"])
    post = await make_post(me["headers"], title="Mine", tags=["shared"])
    for i in range(3):
        await make_post(me["headers"], title=f"Mine {i}", published=i == 1)
    for i in range(5):
        await comment(client, post["id"], others[i]["headers"], f"c{i}")
    lists = [
        "/api/v1/posts",
        "/api/v1/users/me/posts",
        "/api/v1/users",
        "/api/v1/tags",
        "/api/v1/feed",
        f"/api/v1/posts/{post['id']}/comments",
        f"/api/v1/users/{me['id']}/followers",
        f"/api/v1/users/{me['id']}/following",
    ]
    for path in lists:
        by_cursor = await walk(client, path, per_page=2, headers=me["headers"])
        by_page: list[dict[str, Any]] = []
        number = 1
        while True:
            answer = await client.get(
                path, params={"per_page": 2, "page": number}, headers=me["headers"]
            )
            assert answer.status_code == 200, (path, answer.text)
            body = answer.json()
            assert body["total"] == len(by_cursor), path
            if not body["items"]:
                break
            by_page.extend(body["items"])
            number += 1
        assert len(by_cursor) >= 4, path
        assert by_page == by_cursor, path


async def test_tag_and_author_lists_take_their_exact_total_from_the_counters(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    statements: list[str],
) -> None:
    """Page 1 of ?tag= or ?author= is one statement (the total rides in it, from the
    counter the database keeps, instead of a count over every matching post), and the total
    stays exact through drafts, publishing, unpublishing, a change of tags and a deletion."""
    ann = await make_user("kept_ann")
    bob = await make_user("kept_bob")
    first = await make_post(ann["headers"], title="One", tags=["kept", "other"])
    await make_post(ann["headers"], title="Two", tags=["kept"])
    draft = await make_post(ann["headers"], title="Draft", tags=["kept"], published=False)
    await make_post(bob["headers"], title="Bob's", tags=["kept"])

    async def total(**params: str) -> int:
        statements.clear()
        response = await client.get("/api/v1/posts", params={**params, "per_page": 2})
        assert response.status_code == 200, response.text
        page = response.json()
        # with no row to carry it, the total is asked for on its own
        assert len(statements) == (1 if page["items"] else 2), statements
        assert len(page["items"]) == min(2, page["total"])
        assert page["pages"] == -(-page["total"] // 2)
        return int(page["total"])

    assert await total(tag="kept") == 3
    assert await total(tag="KEPT") == 3  # tags are compared lowercased, as stored
    assert await total(author="kept_ann") == 2
    assert await total(author="KEPT_ANN") == 2
    assert await total(tag="other") == 1
    assert await total(tag="never-used") == 0
    assert await total(author="nobody_here") == 0

    async def edit(post: dict[str, Any], **fields: Any) -> None:
        response = await client.patch(
            f"/api/v1/posts/{post['id']}", headers=ann["headers"], json=fields
        )
        assert response.status_code == 200, response.text

    await edit(draft, published=True)
    assert await total(tag="kept") == 4
    assert await total(author="kept_ann") == 3
    await edit(first, tags=["other"])
    assert await total(tag="kept") == 3
    await edit(draft, published=False)
    assert await total(tag="kept") == 2
    assert await total(author="kept_ann") == 2
    deleted = await client.delete(f"/api/v1/posts/{first['id']}", headers=ann["headers"])
    assert deleted.status_code == 204
    assert await total(tag="other") == 0
    assert await total(author="kept_ann") == 1

    # Past the end: no rows to carry the total, which is then asked for on its own.
    statements.clear()
    response = await client.get("/api/v1/posts", params={"tag": "kept", "page": 5})
    assert response.json()["total"] == 2
    assert response.json()["items"] == []
    # Two filters at once have no counter: those are counted.
    statements.clear()
    both = await client.get("/api/v1/posts", params={"tag": "kept", "author": "kept_bob"})
    assert both.json()["total"] == 1
    assert len(statements) == 2, statements


# --- What a cursor may hold, on every cursor list

# A list: its path and the query that goes with it (the sort a cursor is made for).
ListQuery = tuple[str, dict[str, str]]


@pytest.fixture
async def every_list(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> tuple[list[ListQuery], dict[str, str]]:
    """Every list that hands out cursors (the posts list in each sort), each holding at least
    two rows, and the headers of the user who reads them."""
    me = await make_user("reader")
    others = [await make_user(f"writer{i}") for i in range(2)]
    for i, other in enumerate(others):
        await follow(client, other["id"], me["headers"])
        await follow(client, me["id"], other["headers"])
        await make_post(other["headers"], title=f"Theirs {i}", tags=[f"t{i}", "shared"])
    post = await make_post(me["headers"], title="Mine", tags=["shared"])
    await make_post(me["headers"], title="Mine, a draft", published=False)
    for other in others:
        await comment(client, post["id"], other["headers"])
    lists: list[ListQuery] = [("/api/v1/posts", {"sort": sort}) for sort in SORTS]
    lists += [
        ("/api/v1/feed", {}),
        ("/api/v1/users/me/posts", {}),
        ("/api/v1/users", {}),
        (f"/api/v1/users/{me['id']}/followers", {}),
        (f"/api/v1/users/{me['id']}/following", {}),
        (f"/api/v1/posts/{post['id']}/comments", {}),
        ("/api/v1/tags", {}),
    ]
    return lists, me["headers"]


def cursor_data(cursor: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return data


def cursor_of(data: dict[str, Any]) -> str:
    """A cursor holding `data`, as the server writes one: UTF-8 JSON (with \\u escapes only
    for what UTF-8 cannot hold, lone surrogates)."""
    try:
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raw = json.dumps(data, separators=(",", ":")).encode()
    return b64(raw)


async def first_cursor(
    client: AsyncClient, path: str, params: dict[str, str], headers: dict[str, str]
) -> str:
    body = (await client.get(path, params={**params, "per_page": 1}, headers=headers)).json()
    assert body["next_cursor"] is not None, path
    cursor: str = body["next_cursor"]
    return cursor


def kind_of(value: Any) -> str:
    if isinstance(value, int):
        return "int"
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return "text"
    return "time"


# Each kind of key: values every database takes (200) and values no column holds (422).
KEY_VALUES: dict[str, list[tuple[Any, int]]] = {
    "int": [
        (2**31 - 1, 200),
        (-(2**31), 200),
        (0, 200),
        (2**31, 422),  # past PostgreSQL's 32-bit integer columns
        (-(2**31) - 1, 422),
        (2**63, 422),
    ],
    "time": [
        ("0001-01-01T00:00:00Z", 200),
        ("9999-12-31T23:59:59.999999Z", 200),
        ("0001-01-01T00:30:00+14:00", 422),  # before year 1, in UTC
        ("9999-12-31T23:00:00-01:00", 422),  # after year 9999, in UTC
        ("2026-02-30T00:00:00Z", 422),
    ],
    "text": [
        ("", 200),
        ("it's 100% a_b\\c", 200),
        ("\U0001f600 é ﷺ", 200),
        ("é" * 1000, 200),
        ("x" * 1001, 422),
        ("a\x00b", 422),
        ("\ud800", 422),  # a lone surrogate: JSON can hold it, UTF-8 cannot
    ],
}


async def test_no_key_value_in_a_cursor_is_a_500_on_any_list(
    client: AsyncClient, every_list: tuple[list[ListQuery], dict[str, str]]
) -> None:
    """Each key of each list's cursor, given every value of its kind: a value its column can
    hold is a 200, any other a 422, on both databases."""
    lists, headers = every_list
    kinds_seen: set[str] = set()
    for path, params in lists:
        data = cursor_data(await first_cursor(client, path, params, headers))
        for position, value in enumerate(data["k"]):
            kind = kind_of(value)
            kinds_seen.add(kind)
            for forged, status in KEY_VALUES[kind]:
                keys = [*data["k"]]
                keys[position] = forged
                cursor = cursor_of({**data, "k": keys})
                response = await client.get(
                    path, params={**params, "cursor": cursor}, headers=headers
                )
                assert response.status_code == status, (path, params, position, forged)
                if status == 422:
                    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]
    assert kinds_seen == set(KEY_VALUES)


async def test_an_id_past_32_bits_in_a_users_cursor_is_a_422(client: AsyncClient) -> None:
    """The cursor as a client could forge it by hand."""
    forged = {"l": "users", "s": "-created_at", "k": ["2026-12-02T06:36:36.184419Z", 2**31]}
    response = await client.get("/api/v1/users", params={"cursor": cursor_of(forged)})
    assert response.status_code == 422, response.text


# --- A cursor belongs to the list it was made for


@pytest.fixture
async def lists_sharing_an_order(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """Lists that one listing orders the same way, told apart by what selects their rows
    (path, query, headers), each holding at least two rows."""
    ann, bob, cat = [await make_user(name) for name in ("ann", "bob", "cat")]
    for one in (ann, bob, cat):
        for other in (ann, bob, cat):
            if one is not other:
                await follow(client, other["id"], one["headers"])
    posts = {}
    for who, tags in ((ann, ["a", "shared"]), (bob, ["b", "shared"]), (cat, ["a", "b"])):
        for i in range(2):
            title = f"{who['username']} word {i}" if i else f"{who['username']} {i}"
            posts[who["username"], i] = await make_post(
                who["headers"], title=title, tags=tags, featured=i == 1
            )
        await make_post(who["headers"], title="draft", published=False)
    for post in (posts["ann", 0], posts["cat", 1]):
        await favorite(client, post["id"], bob["headers"])
    for post in (posts["ann", 0], posts["ann", 1]):
        for who in (bob, cat):
            await comment(client, post["id"], who["headers"])
    none: dict[str, str] = {}
    return [
        ("/api/v1/posts", {}, none),
        ("/api/v1/posts", {}, ann["headers"]),  # the same list, read by a user
        ("/api/v1/posts", {"tag": "a"}, none),
        ("/api/v1/posts", {"tag": "b"}, none),
        ("/api/v1/posts", {"tag": "a", "author": "cat"}, none),
        ("/api/v1/posts", {"author": "ann"}, none),
        ("/api/v1/posts", {"author": "bob"}, none),
        ("/api/v1/posts", {"favorited_by": "bob"}, none),
        ("/api/v1/posts", {"q": "word"}, none),
        ("/api/v1/posts", {"featured": "true"}, none),
        ("/api/v1/posts", {"featured": "false"}, none),
        ("/api/v1/feed", {}, ann["headers"]),
        ("/api/v1/feed", {}, bob["headers"]),
        ("/api/v1/posts", {"sort": "-created_at"}, none),
        ("/api/v1/users/me/posts", {}, ann["headers"]),
        ("/api/v1/users/me/posts", {}, bob["headers"]),
        (f"/api/v1/users/{ann['id']}/followers", {}, none),
        (f"/api/v1/users/{bob['id']}/followers", {}, none),
        (f"/api/v1/users/{ann['id']}/following", {}, none),
        (f"/api/v1/users/{bob['id']}/following", {}, none),
        (f"/api/v1/posts/{posts['ann', 0]['id']}/comments", {}, none),
        (f"/api/v1/posts/{posts['ann', 1]['id']}/comments", {}, none),
    ]


async def test_a_cursor_is_a_422_on_every_other_list_of_its_order(
    client: AsyncClient, lists_sharing_an_order: list[tuple[str, dict[str, str], dict[str, str]]]
) -> None:
    """Made for /posts, a cursor is refused by /feed, /posts?tag=a, /users/me/posts (with
    the same sort), by another user's feed, by the followers of another user and by the
    comments of another post; the one list it was made for takes it, whoever reads it."""
    lists = lists_sharing_an_order
    cursors = [await first_cursor(client, path, params, headers) for path, params, headers in lists]
    for made_on, cursor in zip(lists, cursors, strict=True):
        for used_on in lists:
            path, params, headers = used_on
            response = await client.get(path, params={**params, "cursor": cursor}, headers=headers)
            same = made_on[:2] == used_on[:2] and (
                made_on[2] == used_on[2] or path == "/api/v1/posts"
            )
            assert response.status_code == (200 if same else 422), (made_on, used_on)
            if not same:
                assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_walk_by_cursor_still_returns_every_row_once_on_every_list(
    client: AsyncClient, lists_sharing_an_order: list[tuple[str, dict[str, str], dict[str, str]]]
) -> None:
    for path, params, headers in lists_sharing_an_order:
        walked = await walk(client, path, per_page=1, headers=headers, params=params)
        whole = await client.get(path, params={**params, "per_page": 100}, headers=headers)
        assert walked == whole.json()["items"], (path, params)
        assert len(walked) >= 2, (path, params)


async def test_a_cursor_names_usernames_ignoring_case_as_the_filter_does(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    ann = await make_user("Ann")
    for i in range(3):
        await make_post(ann["headers"], title=f"p{i}")
    cursor = await first_cursor(client, "/api/v1/posts", {"author": "ann"}, {})
    upper = await client.get("/api/v1/posts", params={"author": "ANN", "cursor": cursor})
    assert upper.status_code == 200, upper.text
    assert len(upper.json()["items"]) == 2


async def test_cursors_of_lists_without_filters_hold_what_they_held(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    """Users, tags and every published post: their cursors are {"l", "s", "k"}, as before."""
    user = await make_user("keeper")
    for i in range(3):
        await make_post(user["headers"], title=f"p{i}", tags=[f"t{i}"])
    await make_user("another")
    for path in ("/api/v1/users", "/api/v1/tags", "/api/v1/posts"):
        assert set(cursor_data(await first_cursor(client, path, {}, {}))) == {"l", "s", "k"}
    forged = {"l": "posts", "s": "-published_at", "k": ["9999-01-01T00:00:00Z", 2**31 - 1]}
    listed = await client.get("/api/v1/posts", params={"cursor": cursor_of(forged)})
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 3
    feed = await client.get(
        "/api/v1/feed", params={"cursor": cursor_of(forged)}, headers=user["headers"]
    )
    assert feed.status_code == 422, feed.text
