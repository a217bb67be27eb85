"""What a hostile or unlucky client can send: odd bytes, stale tokens, racing changes."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

from blog_api.config import Settings
from blog_api.kit.db import Access, transaction
from blog_api.kit.errors import AuthenticationError
from blog_api.main import create_app
from blog_api.models import User
from blog_api.posts.deps import post_service
from blog_api.posts.schemas import PostCreate
from tests.helpers.factories import PASSWORD, PostFactory, UserFactory, auth_headers
from tests.helpers.lists import forge


async def test_a_deleted_accounts_token_never_works_for_a_new_account(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("first")
    leaver = await make_user("leaver")
    assert (await client.delete("/api/v1/users/me", headers=leaver["headers"])).status_code == 204
    newcomer = await make_user("newcomer")
    assert newcomer["id"] > leaver["id"], "ids of deleted accounts are never reused"
    assert (await client.get("/api/v1/users/me", headers=leaver["headers"])).status_code == 401


def raw_json(body: object) -> bytes:
    """JSON as a client may send it, lone surrogates escaped ("\\ud800") and all."""
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "password",
    ["x" * 100, "é" * 40, "pass\x00word", "\ud800password"],
    ids=["100 bytes", "80 bytes", "NUL", "lone surrogate"],
)
async def test_unhashable_passwords_are_wrong_credentials_never_500(
    client: AsyncClient, make_user: UserFactory, password: str
) -> None:
    user = await make_user("sturdy")
    json_headers = {**user["headers"], "content-type": "application/json"}
    if "\ud800" not in password:  # a form body cannot carry a lone surrogate at all
        for login in ("sturdy", "nobody"):
            response = await client.post(
                "/api/v1/auth/token", data={"username": login, "password": password}
            )
            assert response.status_code == 401, response.text
    wrong = await client.patch(
        "/api/v1/users/me",
        headers=json_headers,
        content=raw_json({"password": "a good new one", "current_password": password}),
    )
    # Not text at all (pydantic refuses lone surrogates in any string): 422. Else a wrong one.
    assert wrong.status_code == (422 if "\ud800" in password else 403), wrong.text
    register = await client.post(
        "/api/v1/users",
        headers={"content-type": "application/json"},
        content=raw_json({"email": "n@example.com", "username": "newbie", "password": password}),
    )
    assert register.status_code == 422


@pytest.mark.parametrize("login", ["nul\x00user", "x" * 5000])
async def test_odd_login_names_are_wrong_credentials(client: AsyncClient, login: str) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": login, "password": PASSWORD}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800"], ids=["NUL", "lone surrogate"])
async def test_unstorable_text_is_422_and_stores_nothing(
    client: AsyncClient, make_user: UserFactory, bad: str
) -> None:
    user = await make_user("texter")
    headers = {**user["headers"], "content-type": "application/json"}
    for body in ({"title": bad, "content": "c"}, {"title": "t", "content": bad}):
        response = await client.post("/api/v1/posts", headers=headers, content=raw_json(body))
        assert response.status_code == 422, response.text
    bio = await client.patch("/api/v1/users/me", headers=headers, content=raw_json({"bio": bad}))
    assert bio.status_code == 422
    register = await client.post(
        "/api/v1/users",
        headers={"content-type": "application/json"},
        content=raw_json(
            {"email": "t@example.com", "username": "t_t_t", "password": PASSWORD, "bio": bad}
        ),
    )
    assert register.status_code == 422
    assert (await client.get("/api/v1/users/me/posts", headers=user["headers"])).json()[
        "total"
    ] == 0


@pytest.mark.parametrize("param", ["author", "tag", "q"])
async def test_filters_that_cannot_match_are_empty_pages(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, param: str
) -> None:
    user = await make_user("filterer")
    await make_post(user["headers"], tags=["t"])
    for value in ("a\x00b", "%00", "x" * 64):
        response = await client.get("/api/v1/posts", params={param: value})
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
    cursor = await client.get("/api/v1/posts", params={param: "a\x00b", "cursor": "garbage"})
    assert cursor.status_code == 422


async def test_odd_slugs_are_404(client: AsyncClient) -> None:
    for slug in ("a%00b", "UPPER", "with space", "x" * 300, "-leading"):
        response = await client.get(f"/api/v1/posts/by-slug/{slug}")
        assert response.status_code == 404, slug


@pytest.mark.parametrize(
    "key",
    [
        ["0001-01-01T00:00:00+01:00", 1],
        ["9999-12-31T23:59:59-01:00", 1],
        ["2026-01-01T00:00:00Z\u0000", 1],
    ],
)
async def test_cursors_at_the_edge_of_the_calendar_are_422(
    client: AsyncClient, key: list[Any]
) -> None:
    response = await client.get(
        "/api/v1/posts", params={"cursor": forge({"s": "-created_at", "k": key})}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("value", ["\ud800", "a\u0000"])
async def test_title_cursors_with_unstorable_text_are_422(client: AsyncClient, value: str) -> None:
    import base64

    raw = json.dumps({"s": "title", "k": [value, 1]}).encode()
    cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    response = await client.get("/api/v1/posts", params={"cursor": cursor, "sort": "title"})
    assert response.status_code == 422


async def test_cursor_of_the_longest_title_can_be_sent_back(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("emoji")
    for _ in range(2):
        await make_post(user["headers"], title="😀" * 200)
    first = (await client.get("/api/v1/posts", params={"per_page": 1, "sort": "title"})).json()
    assert first["next_cursor"]
    second = await client.get(
        "/api/v1/posts", params={"per_page": 1, "sort": "title", "cursor": first["next_cursor"]}
    )
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] != first["items"][0]["id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/users/1"),
        ("GET", "/api/v1/tags"),
        ("POST", "/api/v1/users"),
    ],
)
async def test_a_bad_token_is_401_on_endpoints_that_need_none(
    client: AsyncClient, method: str, path: str
) -> None:
    body = {"email": "z@example.com", "username": "zed", "password": PASSWORD}
    response = await client.request(
        method,
        path,
        headers={"Authorization": "Bearer garbage"},
        json=body if method == "POST" else None,
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/v1/users")).json()["total"] == 0


async def test_racing_edits_and_deletes_of_one_post_never_500(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("racer")
    post = await make_post(user["headers"], tags=["a"])
    path = f"/api/v1/posts/{post['id']}"
    requests = [
        client.patch(path, headers=user["headers"], json={"title": f"t{i}", "tags": ["a", f"b{i}"]})
        for i in range(4)
    ] + [client.delete(path, headers=user["headers"]) for _ in range(3)]
    responses = await asyncio.gather(*requests)
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 204, 404, 409}, [r.text for r in responses]
    assert statuses[204] == 1, statuses
    assert (await client.get(path)).status_code == 404


async def test_racing_account_deletion_and_changes_never_500(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("vanisher")
    headers = user["headers"]
    requests = [
        client.patch("/api/v1/users/me", headers=headers, json={"bio": "x"}),
        client.post("/api/v1/posts", headers=headers, json={"title": "t", "content": "c"}),
        client.delete("/api/v1/users/me", headers=headers),
        client.delete("/api/v1/users/me", headers=headers),
        client.patch("/api/v1/users/me", headers=headers, json={"bio": "y"}),
        client.post("/api/v1/posts", headers=headers, json={"title": "u", "content": "c"}),
    ]
    responses = await asyncio.gather(*requests)
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 201, 204, 401, 404}, [r.text for r in responses]
    assert statuses[204] == 1
    assert (await client.get("/api/v1/posts")).json()["total"] == 0


async def test_login_and_password_checks_hold_no_connection_while_hashing(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user("pooled")
    context = app.state.hasher._context
    checked_out: list[int] = []
    original = context.verify_and_update

    def spy(*args: Any, **kwargs: Any) -> Any:
        checked_out.append(app.state.engine.pool.checkedout())
        return original(*args, **kwargs)

    monkeypatch.setattr(context, "verify_and_update", spy)
    await auth_headers(client, "pooled")
    changed = await client.patch(
        "/api/v1/users/me",
        headers=user["headers"],
        json={"email": "moved@example.com", "current_password": PASSWORD},
    )
    assert changed.status_code == 200
    assert checked_out == [0, 0], "no connection is held while a password is checked"


class _DeadlockError(Exception):
    """What PostgreSQL's driver raises for a deadlock: the SQLSTATE is what counts."""

    sqlstate = "40P01"


@pytest.mark.parametrize(
    "cause",
    [Exception("database is locked"), _DeadlockError("deadlock detected")],
    ids=["SQLite busy", "PostgreSQL deadlock"],
)
async def test_database_conflicts_are_503_with_retry_after(
    client: AsyncClient, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch, cause: Exception
) -> None:
    user = await make_user("busy")
    from blog_api.posts.repository import PostRepository

    async def conflicting(self: Any, obj: Any) -> Any:
        raise OperationalError("INSERT", {}, cause)

    monkeypatch.setattr(PostRepository, "add", conflicting)
    response = await client.post(
        "/api/v1/posts", headers=user["headers"], json={"title": "t", "content": "c"}
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    monkeypatch.undo()
    mine = await client.get("/api/v1/users/me/posts", headers=user["headers"])
    assert mine.json()["total"] == 0


async def test_a_post_whose_author_was_deleted_meanwhile_is_401_and_not_stored(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    """Authentication hands services a snapshot; the account can go before the insert."""
    user = await make_user("gone_soon")
    async with transaction(app.state.session_factory, Access.READ) as session:
        snapshot = await session.get(User, user["id"])
    assert snapshot is not None
    assert (await client.delete("/api/v1/users/me", headers=user["headers"])).status_code == 204

    async def create_as_snapshot() -> None:
        async with transaction(app.state.session_factory, Access.WRITE) as session:
            service = post_service(session)
            await service.create(snapshot, PostCreate(title="orphan", content="c", tags=["x"]))

    with pytest.raises(AuthenticationError):
        await create_as_snapshot()
    assert (await client.get("/api/v1/posts")).json()["total"] == 0
    assert (await client.get("/api/v1/tags")).json()["total"] == 0


async def test_500_answers_carry_cors_and_request_id(settings: Settings, migrated: str) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/boom", headers={"Origin": "http://localhost:5173"})
    await app.state.engine.dispose()
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert response.headers["x-request-id"]


async def test_unparsable_body_is_422(client: AsyncClient, make_user: UserFactory) -> None:
    user = await make_user("bytes")
    response = await client.post(
        "/api/v1/posts",
        headers={**user["headers"], "content-type": "application/json"},
        content=b'{"title": "\xff\xfe", "content": "c"}',
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_development_without_a_secret_gets_a_random_one_per_process() -> None:
    first = Settings(_env_file=None, environment="development")
    second = Settings(_env_file=None, environment="development")
    assert len(first.jwt_secret) >= 32
    assert first.jwt_secret != second.jwt_secret
    given = Settings(_env_file=None, environment="development", secret_key=SecretStr("s" * 40))
    assert given.jwt_secret == "s" * 40
    empty = Settings(_env_file=None, environment="development", secret_key=SecretStr(""))
    assert len(empty.jwt_secret) >= 32  # `SECRET_KEY=` in a shell is no secret either
