"""Every Comments rule of the HTTP contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from blog_api.comments.repository import CommentRepository
from blog_api.comments.schemas import Comment
from blog_api.comments.service import CommentService
from blog_api.kit.db import Access, transaction
from blog_api.kit.errors import NotFoundError
from blog_api.posts.deps import post_service
from tests.helpers.api import API, COMMENT_FIELDS, PUBLIC_USER_FIELDS, comment, error_locs, get_post
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import walk
from tests.helpers.statements import recorded_statements


def comments_of(post_id: int) -> str:
    return f"{API}/posts/{post_id}/comments"


async def stored(app: FastAPI, post_id: int) -> list[dict[str, Any]]:
    """The post's comments as stored, oldest first, in the JSON shape the API answers."""
    async with transaction(app.state.session_factory, Access.READ) as session:
        rows = await CommentRepository(session).all_in_post(post_id)
    return [Comment.model_validate(row).model_dump(mode="json") for row in rows]


async def test_create_answers_201_comment_and_location(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader", bio="I read")
    post = await make_post(writer["headers"])
    response = await client.post(
        comments_of(post["id"]), json={"body": "First!"}, headers=reader["headers"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == COMMENT_FIELDS
    assert body["post_id"] == post["id"]
    assert body["body"] == "First!"
    assert set(body["author"]) == PUBLIC_USER_FIELDS
    assert body["author"]["id"] == reader["id"]
    assert body["author"]["bio"] == "I read"
    assert body["created_at"].endswith(("Z", "+00:00"))
    assert datetime.fromisoformat(body["updated_at"]).utcoffset() is not None
    assert response.headers["location"] == f"{comments_of(post['id'])}/{body['id']}"
    assert (await client.get(response.headers["location"])).json() == body
    assert await stored(app, post["id"]) == [body]


async def test_create_needs_a_token(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    response = await client.post(comments_of(post["id"]), json={"body": "anon"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert await stored(app, post["id"]) == []


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "   \n\t "},
        {"body": "\u200b\u200d"},
        {"body": "x" * 5001},
        {"body": None},
        {"body": 12},
        {"body": "nul\x00"},
        {},
    ],
)
async def test_bad_body_is_422_naming_the_field_and_stores_nothing(
    app: FastAPI,
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    body: dict[str, Any],
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    response = await client.post(comments_of(post["id"]), json=body, headers=writer["headers"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert ["body", "body"] in error_locs(response)
    assert await stored(app, post["id"]) == []
    assert (await get_post(client, post["id"]))["comments_count"] == 0


async def test_body_of_5000_characters_is_accepted(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    created = await comment(client, post["id"], writer["headers"], "é" * 5000)
    assert created["body"] == "é" * 5000


async def test_unknown_post_is_404_and_bad_ids_are_422(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("user")
    post = await make_post(user["headers"])
    created = await comment(client, post["id"], user["headers"])
    missing = post["id"] + 1000
    assert (await client.get(f"{comments_of(missing)}/{created['id']}")).status_code == 404
    response = await client.post(comments_of(missing), json={"body": "x"}, headers=user["headers"])
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    for bad in ("0", "-1", str(2**31), "abc"):
        response = await client.post(
            f"{API}/posts/{bad}/comments", json={"body": "x"}, headers=user["headers"]
        )
        assert response.status_code == 422
        assert error_locs(response) == [["path", "post_id"]]
        response = await client.patch(
            f"{comments_of(post['id'])}/{bad}", json={"body": "x"}, headers=user["headers"]
        )
        assert response.status_code == 422
        assert error_locs(response) == [["path", "comment_id"]]
    response = await client.delete(
        f"{comments_of(post['id'])}/{created['id'] + 1000}", headers=user["headers"]
    )
    assert response.status_code == 404


async def test_comments_of_a_draft_are_404_to_all_but_its_author_and_superusers(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    superuser: dict[str, Any],
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    draft = await make_post(writer["headers"], published=False)
    path = comments_of(draft["id"])
    response = await client.post(path, json={"body": "sneaky"}, headers=reader["headers"])
    assert response.status_code == 404
    mine = await comment(client, draft["id"], writer["headers"], "note to self")
    root = await comment(client, draft["id"], superuser["headers"], "from root")
    for who in (None, reader):
        headers = who["headers"] if who else {}
        assert (await client.get(f"{path}/{mine['id']}", headers=headers)).status_code == 404
    for who in (writer, superuser):
        response = await client.get(f"{path}/{root['id']}", headers=who["headers"])
        assert response.json() == root
    # Its page of comments: the rows say who may see the post; an empty page (past the end,
    # or a draft without comments) asks for it after.
    empty = await make_post(writer["headers"], title="Empty draft", published=False)
    for who in (None, reader):
        headers = who["headers"] if who else {}
        for page_path, params in ((path, {}), (path, {"page": 5}), (comments_of(empty["id"]), {})):
            answer = await client.get(page_path, params=params, headers=headers)
            assert answer.status_code == 404, (page_path, params)
    for who in (writer, superuser):
        listed = await client.get(path, headers=who["headers"])
        assert [c["id"] for c in listed.json()["items"]] == [mine["id"], root["id"]]
        past = await client.get(path, params={"page": 5}, headers=who["headers"])
        assert (past.status_code, past.json()["items"], past.json()["total"]) == (200, [], 2)
        none = await client.get(comments_of(empty["id"]), headers=who["headers"])
        assert (none.status_code, none.json()["total"]) == (200, 0)
    # A comment of a draft cannot be reached through its id either.
    response = await client.patch(
        f"{path}/{mine['id']}", json={"body": "x"}, headers=reader["headers"]
    )
    assert response.status_code == 404
    assert (await client.delete(f"{path}/{root['id']}", headers=reader["headers"])).status_code == (
        404
    )


async def test_unpublishing_hides_the_comments_from_their_own_authors(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    said = await comment(client, post["id"], reader["headers"], "I was here")
    response = await client.patch(
        f"{API}/posts/{post['id']}", json={"published": False}, headers=writer["headers"]
    )
    assert response.status_code == 200
    path = f"{comments_of(post['id'])}/{said['id']}"
    assert (await client.get(path, headers=reader["headers"])).status_code == 404
    assert (
        await client.patch(path, json={"body": "edit"}, headers=reader["headers"])
    ).status_code == 404
    assert (await client.delete(path, headers=reader["headers"])).status_code == 404
    assert (await client.get(path, headers=writer["headers"])).json() == said


async def test_only_the_comment_author_may_edit(
    app: FastAPI,
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    superuser: dict[str, Any],
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    said = await comment(client, post["id"], reader["headers"], "typo")
    path = f"{comments_of(post['id'])}/{said['id']}"
    assert (await client.patch(path, json={"body": "x"})).status_code == 401
    for other in (writer, superuser):
        response = await client.patch(path, json={"body": "hijack"}, headers=other["headers"])
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
    response = await client.patch(path, json={"body": "fixed"}, headers=reader["headers"])
    assert response.status_code == 200, response.text
    edited = response.json()
    assert set(edited) == COMMENT_FIELDS
    assert edited["body"] == "fixed"
    assert edited["created_at"] == said["created_at"]
    assert datetime.fromisoformat(edited["updated_at"]) > datetime.fromisoformat(said["updated_at"])
    assert await stored(app, post["id"]) == [edited]


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "  "}, {"body": "y" * 5001}, {}])
async def test_bad_edit_is_422_and_changes_nothing(
    app: FastAPI,
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    body: dict[str, Any],
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    said = await comment(client, post["id"], writer["headers"], "keep me")
    response = await client.patch(
        f"{comments_of(post['id'])}/{said['id']}", json=body, headers=writer["headers"]
    )
    assert response.status_code == 422
    assert ["body", "body"] in error_locs(response)
    assert await stored(app, post["id"]) == [said]


async def test_comment_of_another_post_is_404(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    other = await make_post(writer["headers"], title="Other")
    said = await comment(client, other["id"], writer["headers"])
    wrong = f"{comments_of(post['id'])}/{said['id']}"
    assert (
        await client.patch(wrong, json={"body": "x"}, headers=writer["headers"])
    ).status_code == (404)
    response = await client.delete(wrong, headers=writer["headers"])
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(wrong)).status_code == 404
    assert await stored(app, other["id"]) == [said]


async def test_delete_by_comment_author_post_author_or_superuser(
    app: FastAPI,
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    superuser: dict[str, Any],
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    stranger = await make_user("stranger")
    post = await make_post(writer["headers"])
    said = [await comment(client, post["id"], reader["headers"], f"c{i}") for i in range(3)]
    paths = [f"{comments_of(post['id'])}/{c['id']}" for c in said]
    assert (await client.delete(paths[0])).status_code == 401
    response = await client.delete(paths[0], headers=stranger["headers"])
    assert response.status_code == 403
    assert (await get_post(client, post["id"]))["comments_count"] == 3
    for path, who in zip(paths, (reader, writer, superuser), strict=True):
        response = await client.delete(path, headers=who["headers"])
        assert response.status_code == 204, response.text
        assert response.content == b""
        assert (await client.delete(path, headers=who["headers"])).status_code == 404
    assert await stored(app, post["id"]) == []


async def test_deleting_the_post_takes_its_comments(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    said = await comment(client, post["id"], reader["headers"])
    response = await client.delete(f"{API}/posts/{post['id']}", headers=writer["headers"])
    assert response.status_code == 204
    assert await stored(app, post["id"]) == []
    response = await client.patch(
        f"{comments_of(post['id'])}/{said['id']}", json={"body": "x"}, headers=reader["headers"]
    )
    assert response.status_code == 404


async def test_deleting_a_user_takes_their_comments_and_keeps_counts_exact(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    await comment(client, post["id"], reader["headers"], "gone soon")
    kept = await comment(client, post["id"], writer["headers"], "stays")
    await comment(client, post["id"], reader["headers"], "gone soon too")
    assert (await client.delete(f"{API}/users/me", headers=reader["headers"])).status_code == 204
    assert await stored(app, post["id"]) == [kept]
    assert (await get_post(client, post["id"]))["comments_count"] == 1


async def test_comment_author_shows_a_changed_username(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    await comment(client, post["id"], writer["headers"])
    response = await client.patch(
        f"{API}/users/me", json={"username": "renamed"}, headers=writer["headers"]
    )
    assert response.status_code == 200
    assert (await stored(app, post["id"]))[0]["author"]["username"] == "renamed"


async def test_service_lists_every_comment_whole_for_clients_without_paging(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    draft = await make_post(writer["headers"], title="Draft", published=False)
    said = [await comment(client, post["id"], writer["headers"], f"c{i}") for i in range(105)]
    async with transaction(app.state.session_factory, Access.READ) as session:
        posts = post_service(session)
        service = CommentService(CommentRepository(session), posts)
        everything = await service.list_all(None, post["id"])
        with pytest.raises(NotFoundError):
            await service.list_all(None, draft["id"])
    assert [Comment.model_validate(c).model_dump(mode="json") for c in everything] == said


async def test_list_is_oldest_first_with_page_math(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    reader = await make_user("reader")
    post = await make_post(writer["headers"])
    other = await make_post(writer["headers"], title="Other")
    ids = [
        (await comment(client, post["id"], (writer, reader)[i % 2]["headers"], f"c{i}"))["id"]
        for i in range(5)
    ]
    await comment(client, other["id"], reader["headers"], "elsewhere")
    page = (await client.get(comments_of(post["id"]), params={"per_page": 2})).json()
    assert [c["id"] for c in page["items"]] == ids[:2]
    assert (page["total"], page["page"], page["per_page"], page["pages"]) == (5, 1, 2, 3)
    assert page["next_cursor"] is not None
    last = (await client.get(comments_of(post["id"]), params={"per_page": 2, "page": 3})).json()
    assert [c["body"] for c in last["items"]] == ["c4"]
    assert last["next_cursor"] is None
    past = (await client.get(comments_of(post["id"]), params={"page": 9})).json()
    assert (past["items"], past["total"]) == ([], 5)


async def test_cursor_walk_returns_every_comment_once_oldest_first(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    ids = [(await comment(client, post["id"], writer["headers"], f"c{i}"))["id"] for i in range(7)]
    seen = await walk(client, comments_of(post["id"]), per_page=3)
    assert [c["id"] for c in seen] == ids


async def test_cursor_walk_sees_comments_added_meanwhile_once(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    for i in range(4):
        await comment(client, post["id"], writer["headers"], f"c{i}")
    first = (await client.get(comments_of(post["id"]), params={"per_page": 2})).json()
    for i in range(4, 6):
        await comment(client, post["id"], writer["headers"], f"c{i}")
    rest = await walk(
        client, comments_of(post["id"]), per_page=2, params={"cursor": first["next_cursor"]}
    )
    bodies = [c["body"] for c in first["items"] + rest]
    assert bodies == [f"c{i}" for i in range(6)]


@pytest.mark.parametrize("cursor", ["garbage", "%%%", "eyJzIjoiLWNyZWF0ZWRfYXQiLCJrIjpbMSwyXX0"])
async def test_bad_cursor_is_422(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, cursor: str
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    response = await client.get(comments_of(post["id"]), params={"cursor": cursor})
    assert response.status_code == 422
    assert error_locs(response) == [["query", "cursor"]]


async def test_cursor_of_another_list_is_422(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    for i in range(3):
        await make_post(writer["headers"], title=f"p{i}")
    post = await make_post(writer["headers"])
    posts_cursor = (await client.get(f"{API}/posts", params={"per_page": 1})).json()["next_cursor"]
    response = await client.get(comments_of(post["id"]), params={"cursor": posts_cursor})
    assert response.status_code == 422
    for _ in range(3):
        await comment(client, post["id"], writer["headers"])
    comments_cursor = (await client.get(comments_of(post["id"]), params={"per_page": 1})).json()[
        "next_cursor"
    ]
    response = await client.get(f"{API}/posts", params={"cursor": comments_cursor})
    assert response.status_code == 422


async def test_page_and_cursor_together_is_422(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    response = await client.get(comments_of(post["id"]), params={"page": 1, "cursor": "x"})
    assert response.status_code == 422


async def test_comments_count_in_post_and_list(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    writer = await make_user("writer")
    post = await make_post(writer["headers"])
    quiet = await make_post(writer["headers"], title="Quiet")
    assert post["comments_count"] == 0
    for _ in range(3):
        await comment(client, post["id"], writer["headers"])
    assert (await get_post(client, post["id"]))["comments_count"] == 3
    items = (await client.get(f"{API}/posts")).json()["items"]
    assert {p["id"]: p["comments_count"] for p in items} == {post["id"]: 3, quiet["id"]: 0}
    slug = (await client.get(f"{API}/posts/by-slug/{post['slug']}")).json()
    assert slug["comments_count"] == 3


async def test_comment_page_statement_count_does_not_grow_with_per_page(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, engine: AsyncEngine
) -> None:
    writer = await make_user("writer")
    others = [await make_user(f"reader{i}") for i in range(3)]
    post = await make_post(writer["headers"])
    for i in range(30):
        await comment(client, post["id"], others[i % 3]["headers"], f"c{i}")
    counts: dict[tuple[str, int], int] = {}
    for mode in ("page", "cursor"):
        cursor = (await client.get(comments_of(post["id"]), params={"per_page": 1})).json()[
            "next_cursor"
        ]
        for per_page in (1, 10, 25):
            params: dict[str, Any] = {"per_page": per_page}
            if mode == "cursor":
                params["cursor"] = cursor
            with recorded_statements(engine) as statements:
                response = await client.get(
                    comments_of(post["id"]), params=params, headers=writer["headers"]
                )
            assert response.status_code == 200
            assert len(response.json()["items"]) == per_page
            counts[mode, per_page] = len(statements)
    assert counts["page", 1] == counts["page", 10] == counts["page", 25], counts
    assert counts["cursor", 1] == counts["cursor", 10] == counts["cursor", 25], counts
    # The viewer's token (one), then the page: its rows carry the post's visibility, and in
    # page mode the total (the post's comments counter).
    assert counts["cursor", 1] <= 2, counts
    assert counts["page", 1] <= 2, counts
