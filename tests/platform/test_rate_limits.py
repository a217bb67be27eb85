"""Rate limits on logins, registrations and password changes: 429 with Retry-After, in
memory and in Redis (where every worker shares the counts)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select

from blog_api.config import Settings
from blog_api.kit.db import Access, transaction
from blog_api.main import create_app
from blog_api.models import User
from tests.helpers.clock import clear_of_a_window_edge
from tests.helpers.factories import PASSWORD

# Redis db 1 on this machine; every test uses a key prefix of its own.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")

LIMITS = {
    "login_failures_per_account": 3,
    "login_attempts_per_address": 8,
    "registrations_per_address": 4,
    "password_changes_per_account": 2,
}

AppMaker = Callable[..., FastAPI]


async def _redis_answers() -> bool:
    client = redis.asyncio.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def make_app(
    request: pytest.FixtureRequest, settings: Settings, app: FastAPI
) -> AsyncIterator[AppMaker]:
    """Apps on the test database with low limits; `redis` ones share one fresh key prefix.
    Each test counts up to its limits within a second or two: clear of a window's edge."""
    clear_of_a_window_edge(60, margin=3)
    redis_url = None
    if request.param == "redis":
        if not await _redis_answers():
            if os.environ.get("CI"):
                pytest.fail(f"Redis does not answer at {REDIS_URL}")
            pytest.skip(f"Redis does not answer at {REDIS_URL}")
        redis_url = REDIS_URL
    prefix = f"blog_api_test_{uuid.uuid4().hex}"
    made: list[FastAPI] = []

    def factory(**overrides: Any) -> FastAPI:
        limits = {**LIMITS, **overrides}
        application = create_app(
            settings.model_copy(
                update={**limits, "redis_url": redis_url, "rate_limit_prefix": prefix}
            )
        )
        made.append(application)
        return application

    yield factory
    for application in made:
        await application.state.engine.dispose()
    if redis_url:
        client = redis.asyncio.Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def client_of(application: FastAPI, address: str = "127.0.0.1") -> AsyncClient:
    transport = ASGITransport(app=application, client=(address, 12345))
    return AsyncClient(transport=transport, base_url="http://test")


async def register(client: AsyncClient, name: str) -> Response:
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    return await client.post("/api/v1/users", json=body)


async def login(client: AsyncClient, name: str, password: str = PASSWORD) -> Response:
    return await client.post("/api/v1/auth/token", data={"username": name, "password": password})


def assert_limited(response: Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 429
    assert 1 <= int(response.headers["retry-after"]) <= 3600


async def test_failed_logins_per_account(make_app: AppMaker) -> None:
    application = make_app()
    async with client_of(application) as client:
        for name in ("victim", "bystander"):
            assert (await register(client, name)).status_code == 201
        for _ in range(3):
            assert (await login(client, "victim", "wrong guess")).status_code == 401
        assert_limited(await login(client, "victim", "wrong guess"))
        # The account is locked for now, whatever the password, however it is spelled...
        assert_limited(await login(client, "victim"))
        assert_limited(await login(client, "VICTIM@example.com"))
    # ... from any address; other accounts are not.
    async with client_of(application, "10.9.8.7") as other:
        assert_limited(await login(other, "victim"))
        assert (await login(other, "bystander")).status_code == 200


async def test_a_successful_login_starts_the_failure_count_afresh(make_app: AppMaker) -> None:
    async with client_of(make_app()) as client:
        assert (await register(client, "forgetful")).status_code == 201
        for _ in range(2):
            assert (await login(client, "forgetful", "wrong guess")).status_code == 401
        assert (await login(client, "forgetful")).status_code == 200
        for _ in range(3):
            assert (await login(client, "forgetful", "wrong guess")).status_code == 401
        assert_limited(await login(client, "forgetful", "wrong guess"))


async def test_login_attempts_per_address(make_app: AppMaker) -> None:
    application = make_app(login_failures_per_account=0)
    async with client_of(application) as client:
        assert (await register(client, "someone")).status_code == 201
        for i in range(8):
            assert (await login(client, f"nobody{i}", "wrong guess")).status_code == 401
        assert_limited(await login(client, "someone"))
    async with client_of(application, "10.1.2.3") as other:
        assert (await login(other, "someone")).status_code == 200


async def test_registrations_per_address(make_app: AppMaker, app: FastAPI) -> None:
    application = make_app()
    async with client_of(application) as client:
        for i in range(4):
            assert (await register(client, f"newcomer{i}")).status_code == 201
        assert_limited(await register(client, "one-too-many"))
    async with client_of(application, "10.4.4.4") as other:
        assert (await register(other, "elsewhere")).status_code == 201
    async with transaction(app.state.session_factory, Access.READ) as session:
        names = (await session.scalars(select(User.username))).all()
    assert "one-too-many" not in names


async def test_password_changes_per_account(make_app: AppMaker, app: FastAPI) -> None:
    async with client_of(make_app()) as client:
        assert (await register(client, "changer")).status_code == 201
        token = (await login(client, "changer")).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(2):  # a wrong current password counts as much as a right one
            body = {"password": f"new password {i}", "current_password": "wrong guess"}
            answer = await client.patch("/api/v1/users/me", headers=headers, json=body)
            assert answer.status_code == 403
        body = {"password": "new password 9", "current_password": PASSWORD}
        assert_limited(await client.patch("/api/v1/users/me", headers=headers, json=body))
        # Changes that check no password are not limited.
        answer = await client.patch("/api/v1/users/me", headers=headers, json={"bio": "hi"})
        assert answer.status_code == 200
        assert (await login(client, "changer")).status_code == 200  # the password is unchanged


async def test_a_flood_at_one_account_spends_only_the_limits_worth_of_bcrypt(
    make_app: AppMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = make_app(login_attempts_per_address=0)
    async with client_of(application) as client:
        assert (await register(client, "target")).status_code == 201
        hasher = application.state.hasher
        hashes = 0
        run = hasher._run

        async def counting_run(*args: Any) -> Any:
            nonlocal hashes
            hashes += 1
            return await run(*args)

        monkeypatch.setattr(hasher, "_run", counting_run)
        answers = await asyncio.gather(*(login(client, "target", f"guess {i}") for i in range(32)))
    assert Counter(a.status_code for a in answers) == {401: 3, 429: 29}
    assert hashes == 3


async def test_workers_share_the_counts_in_redis(make_app: AppMaker, request: Any) -> None:
    first, second = make_app(), make_app()  # two workers
    async with client_of(first) as one, client_of(second) as two:
        assert (await register(one, "shared")).status_code == 201
        for client in (one, two, one):
            assert (await login(client, "shared", "wrong guess")).status_code == 401
        limited = await login(two, "shared", "wrong guess")
    if "redis" in request.node.callspec.id:
        assert_limited(limited)
    else:  # memory: each process counts alone
        assert limited.status_code == 401


async def test_an_unreachable_redis_lets_requests_through(
    settings: Settings, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Limits protect the CPU; a Redis outage must not lock every user out."""
    application = create_app(
        settings.model_copy(update={**LIMITS, "redis_url": "redis://127.0.0.1:9/1"})
    )
    try:
        async with client_of(application) as client:
            assert (await register(client, "unlimited")).status_code == 201
            assert (await login(client, "unlimited")).status_code == 200
    finally:
        await application.state.engine.dispose()
    assert "rate limit storage unavailable" in caplog.text
