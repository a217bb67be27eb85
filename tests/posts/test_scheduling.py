"""Post status and scheduling (API.md, "Publishing (v3)"): status beside the published
shorthand, published_at sent to schedule or backdate, scheduled posts hidden until they go
live, then live in every list and count, exactly once, also at start-up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, update

from blog_api.config import Settings
from blog_api.kit.background import BackgroundJob
from blog_api.kit.db import Access, transaction
from blog_api.main import create_app
from blog_api.models import Counter, CounterDelta, Post, PostStatus
from blog_api.posts.deps import publish_due_posts
from blog_api.posts.service import decide_publication
from tests.helpers.api import API, follow
from tests.helpers.counts import assert_counts_exact
from tests.helpers.factories import UserFactory


def _at(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _write(
    client: AsyncClient, headers: dict[str, str], expected: int = 201, **fields: Any
) -> dict[str, Any]:
    body = {"title": "Scheduled", "content": "Some content.", **fields}
    response = await client.post(f"{API}/posts", json=body, headers=headers)
    assert response.status_code == expected, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _patch(
    client: AsyncClient, post_id: int, headers: dict[str, str], expected: int = 200, **fields: Any
) -> dict[str, Any]:
    response = await client.patch(f"{API}/posts/{post_id}", json=fields, headers=headers)
    assert response.status_code == expected, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _post_count(app: FastAPI) -> int:
    async with app.state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Post)) or 0)


def _assert_422(answer: dict[str, Any], field: str) -> None:
    assert answer["status"] == 422
    assert any(error["loc"][-1] == field or field in error["msg"] for error in answer["errors"]), (
        answer
    )


# --- status and its shorthand


async def test_status_and_the_published_shorthand_agree_in_every_answer(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("writer")
    h = user["headers"]
    for fields, status in (
        ({}, "draft"),
        ({"published": False}, "draft"),
        ({"published": True}, "published"),
        ({"status": "draft"}, "draft"),
        ({"status": "published"}, "published"),
        ({"status": "published", "published": True}, "published"),
        ({"status": "draft", "published": False}, "draft"),
        ({"status": "scheduled", "published_at": _iso(_at(3600))}, "scheduled"),
    ):
        post = await _write(client, h, **fields)
        assert (post["status"], post["published"]) == (status, status == "published"), fields
        assert (post["published_at"] is None) == (status == "draft"), fields
    mine = (await client.get(f"{API}/users/me/posts", headers=h)).json()["items"]
    assert sorted(p["status"] for p in mine) == ["draft"] * 4 + ["published"] * 3 + ["scheduled"]
    # PATCH: the shorthand and the status move the post the same way.
    post = await _write(client, h)
    assert (await _patch(client, post["id"], h, status="published"))["published"] is True
    assert (await _patch(client, post["id"], h, published=False))["status"] == "draft"


async def test_published_and_status_that_disagree_are_a_422_and_change_nothing(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("writer")
    h = user["headers"]
    later = _iso(_at(3600))
    disagreeing: list[dict[str, Any]] = [
        {"published": True, "status": "draft"},
        {"published": False, "status": "published"},
        {"published": True, "status": "scheduled", "published_at": later},
        {"published": False, "status": "scheduled", "published_at": later},
    ]
    for fields in disagreeing:
        _assert_422(await _write(client, h, 422, **fields), "published")
    assert await _post_count(app) == 0
    post = await _write(client, h, title="Kept")
    for fields in disagreeing:
        _assert_422(
            await _patch(client, post["id"], h, 422, title="Changed", **fields), "published"
        )
    kept = (await client.get(f"{API}/posts/{post['id']}", headers=h)).json()
    assert (kept["title"], kept["status"], kept["updated_at"]) == (
        "Kept",
        "draft",
        post["updated_at"],
    )


async def test_published_at_without_a_utc_offset_is_a_422_never_local_time(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("writer")
    h = user["headers"]
    naive = _at(3600).replace(tzinfo=None).isoformat()
    for value in (naive, "2020-01-01T10:00:00", "2020-01-01", 1767225600, "tomorrow"):
        for status in ("scheduled", "published"):
            answer = await _write(client, h, 422, status=status, published_at=value)
            _assert_422(answer, "published_at")
    # Instants that leave the calendar once in UTC, or lie before 1970, are refused too.
    for value in ("0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z"):
        _assert_422(
            await _write(client, h, 422, status="published", published_at=value), "published_at"
        )
    assert await _post_count(app) == 0
    post = await _write(client, h, status="scheduled", published_at=_iso(_at(3600)))
    patched: tuple[str | int | None, ...] = (naive, None, 0)
    for sent in patched:
        _assert_422(await _patch(client, post["id"], h, 422, published_at=sent), "published_at")
    # Any offset is read as the instant it names.
    moment = _at(7200).replace(microsecond=0)
    tokyo = moment.astimezone(timezone(timedelta(hours=9))).isoformat()
    moved = await _patch(client, post["id"], h, published_at=tokyo)
    assert _parse(moved["published_at"]) == moment
    assert moved["published_at"].endswith("Z")


async def test_the_instant_must_suit_the_status_else_a_422_and_nothing_written(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("writer")
    h = user["headers"]
    past, future = _iso(_at(-60)), _iso(_at(3600))
    refused: list[tuple[dict[str, Any], str]] = [
        ({"status": "scheduled", "published_at": past}, "published_at"),  # needs the future
        ({"status": "scheduled"}, "published_at"),  # and an instant
        ({"status": "published", "published_at": future}, "published_at"),  # say scheduled
        ({"published": True, "published_at": future}, "published_at"),
        ({"status": "draft", "published_at": past}, "status"),  # a draft has no instant
        ({"published_at": future}, "status"),  # a draft, as created by default
    ]
    for fields, field in refused:
        _assert_422(await _write(client, h, 422, **fields), field)
    assert await _post_count(app) == 0
    draft = await _write(client, h)
    published = await _write(client, h, published=True)
    scheduled = await _write(client, h, status="scheduled", published_at=future)
    for post, fields in (
        (draft, {"status": "scheduled", "published_at": past}),
        (draft, {"status": "scheduled"}),
        (draft, {"published_at": future}),
        (published, {"status": "published", "published_at": future}),
        (published, {"published_at": future}),
        (scheduled, {"published_at": past}),
        (scheduled, {"status": "draft", "published_at": future}),
    ):
        response = await client.patch(f"{API}/posts/{post['id']}", json=fields, headers=h)
        assert response.status_code == 422, (fields, response.text)
        again = (await client.get(f"{API}/posts/{post['id']}", headers=h)).json()
        assert again == {**post, "favorited": False}, fields


# --- backdating, and published_at kept


async def test_a_past_published_at_backdates_a_post_in_both_list_modes(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("importer")
    h = user["headers"]
    fresh = await _write(client, h, title="Fresh", published=True)
    old = await _write(
        client, h, title="Old", status="published", published_at="2010-05-01T12:00:00+02:00"
    )
    middle = await _write(client, h, title="Middle", published=True)
    middle = await _patch(client, middle["id"], h, published_at="2020-01-01T00:00:00Z")
    assert old["published_at"] == "2010-05-01T10:00:00Z"
    assert middle["published_at"] == "2020-01-01T00:00:00Z"
    newest_first = [fresh["id"], middle["id"], old["id"]]
    for sort, expected in (("-published_at", newest_first), ("published_at", newest_first[::-1])):
        page = (await client.get(f"{API}/posts", params={"sort": sort})).json()
        assert [p["id"] for p in page["items"]] == expected
        walked: list[int] = []
        params: dict[str, str | int] = {"sort": sort, "per_page": 1}
        while True:
            page = (await client.get(f"{API}/posts", params=params)).json()
            walked += [p["id"] for p in page["items"]]
            if page["next_cursor"] is None:
                break
            params = {"sort": sort, "per_page": 1, "cursor": page["next_cursor"]}
        assert walked == expected
        numbered = [
            (
                await client.get(f"{API}/posts", params={"sort": sort, "per_page": 1, "page": n})
            ).json()["items"][0]["id"]
            for n in (1, 2, 3)
        ]
        assert numbered == expected


async def test_back_to_draft_keeps_published_at_and_publishing_again_keeps_it(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("writer")
    h = user["headers"]
    post = await _write(client, h, status="published", published_at="2021-03-04T05:06:07Z")
    draft = await _patch(client, post["id"], h, status="draft")
    assert (draft["status"], draft["published_at"]) == ("draft", "2021-03-04T05:06:07Z")
    again = await _patch(client, post["id"], h, published=True)
    assert (again["status"], again["published_at"]) == ("published", "2021-03-04T05:06:07Z")


async def test_a_scheduled_post_moved_and_unscheduled_and_published_at_once(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("writer")
    h = user["headers"]
    first, second = _at(3600).replace(microsecond=0), _at(7200).replace(microsecond=0)
    post = await _write(client, h, status="scheduled", published_at=_iso(first))
    assert _parse(post["published_at"]) == first
    # Other edits keep it scheduled; a new instant moves it.
    edited = await _patch(client, post["id"], h, title="Edited")
    assert (edited["status"], _parse(edited["published_at"])) == ("scheduled", first)
    moved = await _patch(client, post["id"], h, published_at=_iso(second))
    assert (moved["status"], _parse(moved["published_at"])) == ("scheduled", second)
    # Back to draft: it was never published, so it has no published_at.
    unscheduled = await _patch(client, post["id"], h, status="draft")
    assert (unscheduled["status"], unscheduled["published_at"]) == ("draft", None)
    await _patch(client, post["id"], h, status="scheduled", published_at=_iso(first))
    # Published at once: now, not at the planned instant.
    before = datetime.now(UTC)
    now = await _patch(client, post["id"], h, published=True)
    assert now["status"] == "published"
    assert before <= _parse(now["published_at"]) <= datetime.now(UTC)


# --- a scheduled post until it goes live


async def test_a_scheduled_post_is_a_draft_to_everyone_but_its_author_and_superusers(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, Any]
) -> None:
    author = await make_user("author")
    reader = await make_user("reader")
    await follow(client, author["id"], reader["headers"])
    post = await _write(
        client, author["headers"], status="scheduled", published_at=_iso(_at(3600)), tags=["soon"]
    )
    path = f"{API}/posts/{post['id']}"
    anonymous: dict[str, str] = {}
    for headers in (anonymous, reader["headers"]):
        assert (await client.get(path, headers=headers)).status_code == 404
        assert (
            await client.get(f"{API}/posts/by-slug/{post['slug']}", headers=headers)
        ).status_code == 404
        assert (await client.get(f"{path}/comments", headers=headers)).status_code == 404
    assert (await client.put(f"{path}/favorite", headers=reader["headers"])).status_code == 404
    for headers in (author["headers"], superuser["headers"]):
        assert (await client.get(path, headers=headers)).json()["status"] == "scheduled"
    assert (await client.get(f"{API}/posts")).json()["total"] == 0
    assert (await client.get(f"{API}/posts", params={"tag": "soon"})).json()["total"] == 0
    assert (await client.get(f"{API}/feed", headers=reader["headers"])).json()["items"] == []
    assert (await client.get(f"{API}/tags")).json()["items"] == []
    assert (await client.get(f"{API}/users/{author['id']}")).json()["posts_count"] == 0
    assert (await client.get("/api/articles", params={"author": "author"})).json()[
        "articlesCount"
    ] == 0


@pytest.fixture
async def publishing(app: FastAPI, settings: Settings) -> AsyncIterator[FastAPI]:
    """An app of the test settings whose lifespan runs the background work, publishing
    scheduled posts every 0.1 s (the test app itself runs none)."""
    served = create_app(settings.model_copy(update={"publish_scheduled_seconds": 0.1}))
    async with served.router.lifespan_context(served):
        yield served
    await served.state.engine.dispose()


async def _live_within(client: AsyncClient, post_id: int, instant: datetime) -> float:
    """Seconds after `instant` when the post was first visible to an anonymous reader."""
    deadline = time.monotonic() + (instant - datetime.now(UTC)).total_seconds() + 5
    while time.monotonic() < deadline:
        if (await client.get(f"{API}/posts/{post_id}")).status_code == 200:
            return (datetime.now(UTC) - instant).total_seconds()
        await asyncio.sleep(0.05)
    raise AssertionError(f"post {post_id} was not live 5 s after its instant")


async def test_a_scheduled_post_goes_live_within_5_seconds_in_every_list_and_count(
    app: FastAPI, publishing: FastAPI, make_user: UserFactory
) -> None:
    async with AsyncClient(transport=ASGITransport(app=publishing), base_url="http://t") as client:
        author = await make_user("author")
        reader = await make_user("reader")
        await follow(client, author["id"], reader["headers"])
        await _write(client, author["headers"], title="Already", published=True, tags=["soon"])
        instant = _at(1.0).replace(microsecond=0) + timedelta(seconds=1)
        post = await _write(
            client,
            author["headers"],
            status="scheduled",
            published_at=_iso(instant),
            tags=["soon", "later"],
        )
        assert (await client.get(f"{API}/posts/{post['id']}")).status_code == 404
        late = await _live_within(client, post["id"], instant)
        assert -0.01 <= late < 5
        live = (await client.get(f"{API}/posts/{post['id']}")).json()
        assert (live["status"], live["published"]) == ("published", True)
        assert _parse(live["published_at"]) == instant
        assert live["updated_at"] == post["updated_at"]
        listed = (await client.get(f"{API}/posts")).json()
        assert (listed["total"], listed["items"][0]["id"]) == (2, post["id"])
        assert listed["items"][0]["status"] == "published"
        assert (await client.get(f"{API}/posts", params={"tag": "soon"})).json()["total"] == 2
        tags = (await client.get(f"{API}/tags")).json()["items"]
        assert {t["name"]: t["post_count"] for t in tags} == {"soon": 2, "later": 1}
        assert (await client.get(f"{API}/users/{author['id']}")).json()["posts_count"] == 2
        feed = (await client.get(f"{API}/feed", headers=reader["headers"])).json()
        assert feed["items"][0]["id"] == post["id"]
    await assert_counts_exact(app)


async def test_racing_publishers_publish_each_post_once(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    author = await make_user("author")
    ids = [
        (await _write(client, author["headers"], status="scheduled", published_at=_iso(_at(3600)),
                      tags=["t"]))["id"]
        for _ in range(5)
    ]  # fmt: skip
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(update(Post).where(Post.id.in_(ids)).values(published_at=_at(-1)))
    published = await asyncio.gather(
        *(publish_due_posts(app.state.session_factory) for _ in range(6))
    )
    assert sorted(i for run in published for i in run) == sorted(ids)
    counts = await assert_counts_exact(app)
    assert counts[Counter.PUBLISHED_POSTS.value, 0] == 5
    assert counts[Counter.USER_POSTS.value, author["id"]] == 5
    async with app.state.session_factory() as session:
        rows = await session.scalar(
            select(func.count()).where(CounterDelta.name == Counter.PUBLISHED_POSTS.value)
        )
    assert rows == 5  # one +1 per post, none twice
    assert await publish_due_posts(app.state.session_factory) == []


async def test_start_up_publishes_posts_whose_instant_passed_while_nothing_ran(
    app: FastAPI, settings: Settings, client: AsyncClient, make_user: UserFactory
) -> None:
    author = await make_user("author")
    post = await _write(
        client, author["headers"], status="scheduled", published_at=_iso(_at(3600)), tags=["t"]
    )
    missed = _at(-600)
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(update(Post).where(Post.id == post["id"]).values(published_at=missed))
        # Another process took the last turn a moment ago: the next is not due for a while.
        session.add(BackgroundJob(name="publish_scheduled_posts", due_at=_at(3600)))
    assert (await client.get(f"{API}/posts/{post['id']}")).status_code == 404
    served = create_app(settings.model_copy(update={"publish_scheduled_seconds": 4}))
    started = time.monotonic()
    async with served.router.lifespan_context(served):
        while (await client.get(f"{API}/posts/{post['id']}")).status_code != 200:
            assert time.monotonic() - started < 2, "not published at start-up"
            await asyncio.sleep(0.05)
    await served.state.engine.dispose()
    live = (await client.get(f"{API}/posts/{post['id']}")).json()
    assert abs(_parse(live["published_at"]) - missed) < timedelta(milliseconds=1)
    counts = await assert_counts_exact(app)
    assert counts[Counter.PUBLISHED_POSTS.value, 0] == 1


async def test_own_posts_with_every_status_cost_what_they_cost(
    client: AsyncClient, make_user: UserFactory, statements: list[str]
) -> None:
    author = await make_user("author")
    h = author["headers"]
    for fields in ({}, {"published": True}, {"status": "scheduled", "published_at": _iso(_at(99))}):
        for _ in range(3):
            await _write(client, h, **fields)
    statements.clear()
    page = (await client.get(f"{API}/users/me/posts", headers=h)).json()
    assert sorted({p["status"] for p in page["items"]}) == ["draft", "published", "scheduled"]
    assert len(statements) == 3, statements  # the caller, the page, its total


def test_the_decision_says_when_a_write_publishes_or_schedules() -> None:
    """What a roles policy reads (PostService._publication): true exactly when the write makes
    the post go live, now or later, or moves its instant."""
    now = datetime.now(UTC)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    draft, scheduled, published = PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.PUBLISHED
    cases: list[tuple[PostStatus, datetime | None, PostStatus | None, datetime | None, bool]] = [
        (draft, None, None, None, False),  # an edit of a draft
        (draft, None, draft, None, False),
        (draft, None, published, None, True),
        (draft, past, published, None, True),  # published again
        (draft, None, scheduled, future, True),
        (draft, None, published, past, True),  # imported, backdated
        (published, past, None, None, False),  # an edit of a published post
        (published, past, published, None, False),
        (published, past, None, past - timedelta(days=1), True),  # backdated further
        (published, past, draft, None, False),  # unpublished
        (published, past, scheduled, future, True),
        (scheduled, future, None, None, False),
        (scheduled, future, None, future + timedelta(hours=1), True),  # moved
        (scheduled, future, published, None, True),
        (scheduled, future, draft, None, False),
    ]
    for status, at, asked, asked_at, expected in cases:
        decided = decide_publication(status, at, asked, asked_at, now)
        assert decided.publishes_or_schedules is expected, (status, at, asked, asked_at)
