"""Login, tokens, and what a bad token gets."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from blog_api.users.passwords import PasswordHasher
from tests.helpers.factories import PASSWORD, UserFactory

SECRET = "test-secret-key-that-is-long-enough-for-hs256"


async def login(client: AsyncClient, username: str, password: str = PASSWORD) -> Any:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


@pytest.mark.parametrize(
    "login_as", ["Reader", "reader", "reader@example.com", "READER@Example.com"]
)
async def test_login_with_username_or_email(
    client: AsyncClient, make_user: UserFactory, login_as: str
) -> None:
    user = await make_user("Reader", email="reader@example.com")
    response = await login(client, login_as)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60  # the default lifetime
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(user["id"])
    assert 15 * 60 - 1 <= claims["exp"] - claims["iat"] <= 15 * 60
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["id"] == user["id"]


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("known")
    wrong = await login(client, "known", "wrong password")
    unknown = await login(client, "nobody", "wrong password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


async def test_login_needs_form_fields(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "x"})
    assert response.status_code == 422
    assert ["body", "password"] in [e["loc"] for e in response.json()["errors"]]
    as_json = await client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert as_json.status_code == 422


def forge(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def bad_tokens(user_id: int, good: str, someone_elses: str) -> dict[str, str]:
    """Tokens that each differ from a good one of `user_id` in one way only."""
    now = datetime.now(UTC)
    real = jwt.decode(good, SECRET, algorithms=["HS256"])
    session = {"sid": real["sid"], "auth_time": real["auth_time"]}
    theirs = jwt.decode(someone_elses, SECRET, algorithms=["HS256"])["sid"]
    live = {"iat": now, "exp": now + timedelta(hours=1)}
    return {
        "garbage": "not-a-jwt",
        "expired": forge(
            {
                "sub": str(user_id),
                **session,
                "iat": now - timedelta(hours=2),
                "exp": now - timedelta(hours=1),
            }
        ),
        "wrong secret": forge({"sub": str(user_id), **session, **live}, "x" * 40),
        "alg none": jwt.encode({"sub": str(user_id), **session, **live}, None, algorithm="none"),
        "no exp": forge({"sub": str(user_id), **session, "iat": now}),
        "non-numeric sub": forge({"sub": "admin", **session, **live}),
        "huge sub": forge({"sub": str(10**20), **session, **live}),
        "unknown user": forge({"sub": "987654", **session, **live}),
        "no session": forge({"sub": str(user_id), "auth_time": real["auth_time"], **live}),
        "unknown session": forge({"sub": str(user_id), **session, "sid": "0" * 32, **live}),
        "another user's session": forge({"sub": str(user_id), **session, "sid": theirs, **live}),
        "malformed session": forge({"sub": str(user_id), **session, "sid": "x" * 32, **live}),
        "no auth_time": forge({"sub": str(user_id), "sid": real["sid"], **live}),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "expired",
        "wrong secret",
        "alg none",
        "no exp",
        "non-numeric sub",
        "huge sub",
        "unknown user",
        "no session",
        "unknown session",
        "another user's session",
        "malformed session",
        "no auth_time",
    ],
)
async def test_bad_tokens_are_401_with_bearer_challenge(
    client: AsyncClient, make_user: UserFactory, kind: str
) -> None:
    user = await make_user("tokenholder")
    other = await make_user("bystander")
    good = user["headers"]["Authorization"].removeprefix("Bearer ")
    theirs = other["headers"]["Authorization"].removeprefix("Bearer ")
    real = jwt.decode(good, SECRET, algorithms=["HS256"])
    now = datetime.now(UTC)
    remade = forge({**real, "iat": now, "exp": now + timedelta(hours=1)})
    ok = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {remade}"})
    assert ok.status_code == 200, "the recipe itself makes a working token"
    token = bad_tokens(user["id"], good, theirs)[kind]
    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_password_hashing_runs_off_the_event_loop(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher: PasswordHasher = app.state.hasher
    context = hasher._context
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original_hash, original_verify = context.hash, context.verify_and_update

    def spy_hash(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        return original_hash(*args, **kwargs)

    def spy_verify(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        return original_verify(*args, **kwargs)

    monkeypatch.setattr(context, "hash", spy_hash)
    monkeypatch.setattr(context, "verify_and_update", spy_verify)
    await make_user("threaded")  # hashes on register, verifies on login
    assert len(seen) >= 2
    assert loop_thread not in seen


async def test_login_rehashes_an_outdated_hash(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("oldhash")  # hashed with 4 rounds
    original = app.state.hasher
    app.state.hasher = PasswordHasher(rounds=5)
    try:
        assert (await login(client, "oldhash")).status_code == 200
    finally:
        app.state.hasher = original
    from sqlalchemy import select

    from blog_api.models import User

    async with app.state.session_factory() as session:
        stored = await session.scalar(
            select(User.hashed_password).where(User.username == "oldhash")
        )
    assert stored is not None
    assert stored.startswith("$2b$05$")
    assert (await login(client, "oldhash")).status_code == 200


async def test_login_for_unknown_user_still_verifies_a_hash(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher: PasswordHasher = app.state.hasher
    calls: list[str] = []
    original = hasher._context.verify

    def spy(secret: str, hashed: str) -> bool:
        calls.append(hashed)
        return bool(original(secret, hashed))

    monkeypatch.setattr(hasher._context, "verify", spy)
    assert (await login(client, "ghost", "whatever123")).status_code == 401
    assert len(calls) == 1


async def test_hashing_runs_at_most_max_concurrency_at_once() -> None:
    import asyncio
    import time

    hasher = PasswordHasher(rounds=4, max_concurrency=2)
    running = 0
    peak = 0
    lock = threading.Lock()
    original = hasher._context.hash

    def slow_hash(secret: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return str(original(secret))

    hasher._context.hash = slow_hash
    results = await asyncio.gather(*(hasher.hash(f"password{i}") for i in range(8)))
    assert len(set(results)) == 8
    assert peak == 2
