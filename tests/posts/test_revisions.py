"""Editing safely (API.md "Publishing (v3)"): the `updated_at` precondition on PATCH, and
revisions: every change of title, content, description or status keeps the version it replaced
(the 25 newest per post), listed for those who may edit the post, and restored."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from blog_api.kit.db import Access, transaction
from blog_api.kit.repository import MissingReference, UniqueViolation
from blog_api.models import MAX_REVISIONS, PostRevision
from blog_api.posts.repository import PostRepository
from blog_api.roles import Role
from tests.helpers.api import API, PUBLIC_USER_FIELDS
from tests.helpers.factories import PostFactory, RoleSetter, UserFactory
from tests.helpers.roles import make_cast

REVISION_FIELDS = {"id", "title", "description", "content", "status", "author", "created_at"}


@pytest.fixture
async def writer(make_user: UserFactory) -> dict[str, Any]:
    return await make_user("writer")


async def _patch(client: AsyncClient, post_id: int, headers: dict[str, str], **body: Any) -> Any:
    return await client.patch(f"{API}/posts/{post_id}", json=body, headers=headers)


async def _revisions(
    client: AsyncClient, post_id: int, headers: dict[str, str], **params: Any
) -> Any:
    return await client.get(f"{API}/posts/{post_id}/revisions", params=params, headers=headers)


async def _stored_revisions(app: FastAPI, post_id: int) -> int:
    async with transaction(app.state.session_factory, Access.READ) as session:
        count = await session.scalar(
            select(func.count()).select_from(PostRevision).where(PostRevision.post_id == post_id)
        )
    return int(count or 0)


# --- the precondition


async def test_a_stale_updated_at_is_a_409_that_writes_nothing(
    app: FastAPI, client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Shared", content="v1")
    read = post["updated_at"]
    first = await _patch(client, post["id"], h, content="theirs", updated_at=read)
    assert first.status_code == 200, first.text
    stale = await _patch(
        client, post["id"], h, title="Mine", content="mine", slug="mine", updated_at=read
    )
    assert stale.status_code == 409, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert "changed" in stale.json()["detail"]
    stored = (await client.get(f"{API}/posts/{post['id']}")).json()
    assert (stored["title"], stored["content"], stored["slug"]) == ("Shared", "theirs", "shared")
    assert stored["updated_at"] == first.json()["updated_at"]
    assert await _stored_revisions(app, post["id"]) == 1  # the first change's only
    assert (await client.get(f"{API}/posts/by-slug/mine")).status_code == 404


async def test_a_matching_updated_at_is_a_200_in_any_offset(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="v1")
    same = post["updated_at"].replace("Z", "+00:00")
    response = await _patch(client, post["id"], h, content="v2", updated_at=same)
    assert response.status_code == 200, response.text
    # The same instant written at another offset is the same value.
    moment = datetime.fromisoformat(response.json()["updated_at"])
    shifted = moment.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    again = await _patch(client, post["id"], h, content="v3", updated_at=shifted)
    assert again.status_code == 200, again.text
    # One microsecond off is another value.
    off = (moment + timedelta(microseconds=1)).isoformat()
    refused = await _patch(client, post["id"], h, content="v4", updated_at=off)
    assert refused.status_code == 409


async def test_without_updated_at_the_last_write_wins(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="v1")
    assert (await _patch(client, post["id"], h, content="a")).status_code == 200
    assert (await _patch(client, post["id"], h, content="b")).status_code == 200
    assert (await client.get(f"{API}/posts/{post['id']}")).json()["content"] == "b"


@pytest.mark.parametrize(
    "value", ["2026-12-04T10:00:00", "yesterday", 1700000000, None, "0001-01-01T00:00:00+01:00"]
)
async def test_an_unusable_updated_at_is_a_422(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory, value: Any
) -> None:
    post = await make_post(writer["headers"], content="v1")
    response = await _patch(client, post["id"], writer["headers"], content="v2", updated_at=value)
    assert response.status_code == 422, response.text
    assert (await client.get(f"{API}/posts/{post['id']}")).json()["content"] == "v1"


async def test_racing_edits_from_one_read_give_one_200(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="v1")
    n = 5
    responses = await asyncio.gather(
        *(
            _patch(client, post["id"], h, content=f"edit {i}", updated_at=post["updated_at"])
            for i in range(n)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: n - 1}, [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert (await client.get(f"{API}/posts/{post['id']}")).json()["content"] == winner["content"]


# --- revisions written, trimmed, listed


async def test_each_change_keeps_the_version_it_replaced_newest_first(
    client: AsyncClient,
    writer: dict[str, Any],
    make_post: PostFactory,
    make_user: UserFactory,
    set_role: RoleSetter,
) -> None:
    h = writer["headers"]
    editor = await make_user("eddie")
    await set_role(editor["id"], Role.EDITOR)
    post = await make_post(h, title="T1", content="c1", description="d1", published=False)
    await _patch(client, post["id"], h, title="T2")
    await _patch(client, post["id"], editor["headers"], content="c2")
    await _patch(client, post["id"], h, description=None)
    await _patch(client, post["id"], h, status="published")
    # Not kept: tags, presentation fields, a slug, and values sent unchanged.
    await _patch(client, post["id"], h, tags=["x"], featured=True, slug="other", title="T2")
    page = (await _revisions(client, post["id"], h)).json()
    assert page["total"] == 4
    items = page["items"]
    assert all(set(item) == REVISION_FIELDS for item in items)
    assert [(i["title"], i["content"], i["description"], i["status"]) for i in items] == [
        ("T2", "c2", None, "draft"),
        ("T2", "c2", "d1", "draft"),
        ("T2", "c1", "d1", "draft"),
        ("T1", "c1", "d1", "draft"),
    ]
    assert set(items[0]["author"]) == PUBLIC_USER_FIELDS
    # Each revision's author is the one whose change replaced that version.
    assert [i["author"]["username"] for i in items] == ["writer", "writer", "eddie", "writer"]
    assert items[0]["created_at"] >= items[-1]["created_at"]


async def test_only_the_25_newest_revisions_are_kept(
    app: FastAPI, client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="v0")
    other = await make_post(h, content="w0")
    await _patch(client, other["id"], h, content="w1")
    for i in range(1, MAX_REVISIONS + 4):
        assert (await _patch(client, post["id"], h, content=f"v{i}")).status_code == 200
    assert await _stored_revisions(app, post["id"]) == MAX_REVISIONS
    assert await _stored_revisions(app, other["id"]) == 1
    page = (await _revisions(client, post["id"], h, per_page=100)).json()
    assert page["total"] == MAX_REVISIONS
    contents = [item["content"] for item in page["items"]]
    newest = MAX_REVISIONS + 2
    assert contents == [f"v{i}" for i in range(newest, newest - MAX_REVISIONS, -1)]


async def test_revisions_page_and_cursor_modes_walk_every_revision_once(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="v0")
    for i in range(1, 8):
        await _patch(client, post["id"], h, content=f"v{i}")
    first = (await _revisions(client, post["id"], h, per_page=3)).json()
    assert (first["total"], first["pages"]) == (7, 3)
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await _revisions(client, post["id"], h, per_page=3, cursor=cursor)).json()
        assert page["total"] is None
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
    numbered = [
        item["id"]
        for n in (1, 2, 3)
        for item in (await _revisions(client, post["id"], h, per_page=3, page=n)).json()["items"]
    ]
    assert numbered == seen
    other = await make_post(h, content="x")
    wrong = await _revisions(client, other["id"], h, per_page=3, cursor=first["next_cursor"])
    assert wrong.status_code == 422


async def test_a_revisions_page_is_one_statement(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory, statements: list[str]
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="v0")
    for i in range(1, 6):
        await _patch(client, post["id"], h, content=f"v{i}")
    for params in ({"per_page": 2}, {"per_page": 100}):
        statements.clear()
        response = await _revisions(client, post["id"], h, **params)
        assert response.status_code == 200
        assert len(statements) == 2, statements  # the caller, the page (its total inside)


async def test_one_post_read_stays_one_statement(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory, statements: list[str]
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="v0")
    await _patch(client, post["id"], h, content="v1", slug="moved")
    statements.clear()
    assert (await client.get(f"{API}/posts/{post['id']}")).status_code == 200
    assert len(statements) == 1, statements


# --- restore


async def test_restore_brings_back_a_version_rendered_and_keeps_the_one_it_replaces(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Old", content="**bold**", description="old d")
    await _patch(client, post["id"], h, title="New", content="_new_", description=None)
    revision = (await _revisions(client, post["id"], h)).json()["items"][0]
    response = await client.post(
        f"{API}/posts/{post['id']}/revisions/{revision['id']}/restore", headers=h
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["content"], body["description"]) == ("Old", "**bold**", "old d")
    assert "<strong>bold</strong>" in body["content_html"]
    assert body["slug"] == "old"
    assert body["updated_at"] > post["updated_at"]
    items = (await _revisions(client, post["id"], h)).json()["items"]
    assert [(i["title"], i["content"]) for i in items] == [("New", "_new_"), ("Old", "**bold**")]
    stored = (await client.get(f"{API}/posts/{post['id']}")).json()
    assert stored["content_html"] == body["content_html"]


async def test_restoring_a_revision_of_another_post_or_none_is_a_404(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    h = writer["headers"]
    post = await make_post(h, content="a")
    other = await make_post(h, content="b")
    await _patch(client, other["id"], h, content="b2")
    foreign = (await _revisions(client, other["id"], h)).json()["items"][0]["id"]
    for revision_id in (foreign, 999999):
        response = await client.post(
            f"{API}/posts/{post['id']}/revisions/{revision_id}/restore", headers=h
        )
        assert response.status_code == 404, response.text
    assert (await client.get(f"{API}/posts/{post['id']}")).json()["content"] == "a"
    missing = await client.post(f"{API}/posts/999999/revisions/{foreign}/restore", headers=h)
    assert missing.status_code == 404


# --- who may see and restore revisions, role by role

C, A, E, ADMIN = Role.CONTRIBUTOR, Role.AUTHOR, Role.EDITOR, Role.ADMIN
# (operation, whose, published): {role: status}
TABLE: dict[tuple[str, str, bool], dict[Role, int]] = {
    ("list", "own", False): {C: 200, A: 200, E: 200, ADMIN: 200},
    ("list", "own", True): {C: 403, A: 200, E: 200, ADMIN: 200},
    ("list", "other", False): {C: 404, A: 404, E: 200, ADMIN: 200},
    ("list", "other", True): {C: 403, A: 403, E: 200, ADMIN: 200},
    ("restore", "own", False): {C: 403, A: 200, E: 200, ADMIN: 200},
    ("restore", "own", True): {C: 403, A: 200, E: 200, ADMIN: 200},
    ("restore", "other", False): {C: 404, A: 404, E: 200, ADMIN: 200},
    ("restore", "other", True): {C: 403, A: 403, E: 200, ADMIN: 200},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("operation", "whose", "published"), list(TABLE))
async def test_who_may_list_and_restore_revisions(
    client: AsyncClient,
    make_user: UserFactory,
    set_role: RoleSetter,
    role: Role,
    operation: str,
    whose: str,
    published: bool,
) -> None:
    cast = await make_cast(client, make_user, set_role, role)
    post = await cast.post(whose, published=published, title="Before")
    # The editor's change makes the revision (and leaves the post as it was published).
    changed = await _patch(client, post["id"], cast.editor["headers"], title="After")
    assert changed.status_code == 200, changed.text
    revision = (await _revisions(client, post["id"], cast.editor["headers"])).json()["items"][0]
    caller = cast.caller["headers"]
    if operation == "list":
        response = await _revisions(client, post["id"], caller)
    else:
        response = await client.post(
            f"{API}/posts/{post['id']}/revisions/{revision['id']}/restore", headers=caller
        )
    expected = TABLE[operation, whose, published][role]
    assert response.status_code == expected, response.text
    if expected != 200:
        assert response.headers["content-type"] == "application/problem+json"
    elif operation == "list":
        # Publishing the post (for a published one) made a revision too.
        items = response.json()["items"]
        assert [i["title"] for i in items] == ["Before"] * (2 if published else 1)
    stored = await cast.stored(post["id"])
    assert stored is not None
    restored = operation == "restore" and expected == 200
    assert stored["title"] == ("Before" if restored else "After")


async def test_revisions_need_a_login(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory
) -> None:
    post = await make_post(writer["headers"])
    assert (await client.get(f"{API}/posts/{post['id']}/revisions")).status_code == 401
    restore = await client.post(f"{API}/posts/{post['id']}/revisions/1/restore")
    assert restore.status_code == 401


async def test_a_change_and_its_revision_are_written_together_or_not_at_all(
    app: FastAPI,
    client: AsyncClient,
    writer: dict[str, Any],
    make_post: PostFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = writer["headers"]
    post = await make_post(h, title="Kept", content="v1")

    async def update_fails(*_: Any) -> Any:
        raise UniqueViolation("simulated")

    # The post's update fails after its revision was written: the revision goes too.
    with monkeypatch.context() as patched:
        patched.setattr(PostRepository, "update", update_fails)
        response = await _patch(client, post["id"], h, content="v2")
    assert response.status_code == 409, response.text
    assert await _stored_revisions(app, post["id"]) == 0

    async def revision_fails(*_: Any) -> Any:
        raise MissingReference("simulated")

    # The revision cannot be written: the post stays as it was.
    with monkeypatch.context() as patched:
        patched.setattr(PostRepository, "add_revision", revision_fails)
        response = await _patch(client, post["id"], h, content="v3", slug="moved")
    assert response.status_code == 401, response.text
    stored = (await client.get(f"{API}/posts/{post['id']}")).json()
    assert (stored["content"], stored["slug"], stored["updated_at"]) == (
        "v1",
        "kept",
        post["updated_at"],
    )
    assert (await client.get(f"{API}/posts/by-slug/moved")).status_code == 404
