"""Sessions that can be ended: refresh tokens, rotation, reuse detection, logout."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select, update

from blog_api.kit.db import Access, transaction, utcnow
from blog_api.models import AuthSession, RefreshToken, User
from tests.helpers.factories import PASSWORD, UserFactory

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
LOGOUT_ALL = "/api/v1/auth/logout-all"


async def log_in(
    client: AsyncClient, login: str, password: str = PASSWORD, **params: Any
) -> Response:
    response = await client.post(
        TOKEN, data={"username": login, "password": password}, params=params
    )
    assert response.status_code == 200, response.text
    return response


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


async def refresh(client: AsyncClient, token: str) -> Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def test_login_answers_a_refresh_token_and_is_never_cached(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("alice")
    response = await log_in(client, "alice")
    body = response.json()
    assert body["refresh_expires_in"] == 30 * 24 * 3600
    assert isinstance(body["refresh_token"], str)
    assert len(body["refresh_token"]) >= 43
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    assert (await client.get("/api/v1/users/me", headers=bearer(body))).status_code == 200


async def test_refresh_tokens_are_stored_only_as_hashes(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("hashed")
    token = (await log_in(client, "hashed")).json()["refresh_token"]
    async with transaction(app.state.session_factory, Access.READ) as session:
        stored = (await session.scalars(select(RefreshToken.token_hash))).all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


async def test_refresh_rotates_and_a_reused_token_ends_its_session(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("bob")
    first = (await log_in(client, "bob")).json()
    other_session = (await log_in(client, "bob")).json()

    rotated = await refresh(client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/v1/users/me", headers=bearer(second))).status_code == 200

    # The first token is used up: presenting it again ends its session...
    reused = await refresh(client, first["refresh_token"])
    assert reused.status_code == 401
    assert reused.headers["content-type"] == "application/problem+json"
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    # ... and nothing else: another login of the same user goes on.
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_racing_refreshes_with_one_token_give_one_pair_then_end_the_session(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("racer")
    token = (await log_in(client, "racer")).json()["refresh_token"]
    answers = await asyncio.gather(*(refresh(client, token) for _ in range(6)))
    assert Counter(a.status_code for a in answers) == {200: 1, 401: 5}
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await refresh(client, winner["refresh_token"])).status_code == 401


async def test_unknown_expired_and_missing_refresh_tokens(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("carol")
    assert (await refresh(client, "not-a-token")).status_code == 401
    assert (await refresh(client, "x" * 5000)).status_code == 422
    # No token at all (no body, an empty one, null): no credentials.
    assert (await client.post(REFRESH, json={})).status_code == 401
    assert (await client.post(REFRESH)).status_code == 401
    assert (await client.post(REFRESH, json=None)).status_code == 401
    assert (await client.post(REFRESH, json={"refresh_token": ""})).status_code == 422

    token = (await log_in(client, "carol")).json()["refresh_token"]
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(
            update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await refresh(client, token)).status_code == 401


async def test_an_inactive_user_cannot_refresh(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("sleeper")
    token = (await log_in(client, "sleeper")).json()["refresh_token"]
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(update(User).where(User.id == user["id"]).values(is_active=False))
    assert (await refresh(client, token)).status_code == 403


async def test_logout_ends_that_session_only(client: AsyncClient, make_user: UserFactory) -> None:
    await make_user("dave")
    one = (await log_in(client, "dave")).json()
    two = (await log_in(client, "dave")).json()
    rotated = (await refresh(client, one["refresh_token"])).json()

    out = await client.post(LOGOUT, json={"refresh_token": rotated["refresh_token"]})
    assert out.status_code == 204
    assert out.content == b""
    assert (await refresh(client, rotated["refresh_token"])).status_code == 401
    assert (await refresh(client, two["refresh_token"])).status_code == 200
    # Logging out twice, or with a token that never existed, is no error.
    again = await client.post(LOGOUT, json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 204
    assert (await client.post(LOGOUT, json={"refresh_token": "nothing"})).status_code == 204
    assert (await client.post(LOGOUT, json={})).status_code == 204  # no session to end
    assert (await client.post(LOGOUT)).status_code == 204


async def test_logout_all_ends_every_session_and_access_token(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("erin")
    other = await make_user("frank")
    one = (await log_in(client, "erin")).json()
    two = (await log_in(client, "erin")).json()
    assert (await client.post(LOGOUT_ALL)).status_code == 401

    out = await client.post(LOGOUT_ALL, headers=bearer(one))
    assert out.status_code == 204
    for session in (one, two):
        # Issued a moment ago, in the same second: ended all the same.
        assert (await client.get("/api/v1/users/me", headers=bearer(session))).status_code == 401
        assert (await refresh(client, session["refresh_token"])).status_code == 401
    assert (await client.get("/api/v1/users/me", headers=other["headers"])).status_code == 200
    fresh = (await log_in(client, "erin")).json()
    assert (await client.get("/api/v1/users/me", headers=bearer(fresh))).status_code == 200
    assert (await refresh(client, fresh["refresh_token"])).status_code == 200


async def test_a_password_change_ends_every_other_session(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("grace")
    bystander = await make_user("heidi")
    mine = (await log_in(client, "grace")).json()
    others = [(await log_in(client, "grace")).json() for _ in range(2)]
    changed = await client.patch(
        "/api/v1/users/me",
        headers=bearer(mine),
        json={"password": "a whole new secret", "current_password": PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    for session in others:
        assert (await client.get("/api/v1/users/me", headers=bearer(session))).status_code == 401
        assert (await refresh(client, session["refresh_token"])).status_code == 401
    # The session that made the change goes on: its access token, then its refresh token.
    assert (await client.get("/api/v1/users/me", headers=bearer(mine))).status_code == 200
    rotated = await refresh(client, mine["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert (await client.get("/api/v1/users/me", headers=bearer(rotated.json()))).status_code == 200
    assert (await client.get("/api/v1/users/me", headers=bystander["headers"])).status_code == 200
    # A change of anything else ends nothing.
    fresh = (await log_in(client, "grace", password="a whole new secret")).json()
    bio = await client.patch("/api/v1/users/me", headers=bearer(mine), json={"bio": "hi"})
    assert bio.status_code == 200
    assert (await client.get("/api/v1/users/me", headers=bearer(fresh))).status_code == 200


async def test_an_administrators_reset_ends_every_session_of_that_user(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, Any]
) -> None:
    user = await make_user("ivan")
    session = (await log_in(client, "ivan")).json()
    reset = await client.patch(
        f"/api/v1/users/{user['id']}",
        headers=superuser["headers"],
        json={"password": "reset by root"},
    )
    assert reset.status_code == 200, reset.text
    for headers in (user["headers"], bearer(session)):
        assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
    assert (await refresh(client, session["refresh_token"])).status_code == 401
    assert (await client.get("/api/v1/users/me", headers=superuser["headers"])).status_code == 200


async def test_ending_a_session_ends_its_access_tokens_at_once(
    client: AsyncClient, make_user: UserFactory
) -> None:
    """Logout and a reused refresh token end the session's access tokens, not only its
    refresh tokens; the user's other sessions go on."""
    await make_user("judy")
    me = "/api/v1/users/me"
    logged_out, bystander = (await log_in(client, "judy")).json(), (await log_in(client, "judy"))
    assert (await client.get(me, headers=bearer(logged_out))).status_code == 200
    out = await client.post(LOGOUT, json={"refresh_token": logged_out["refresh_token"]})
    assert out.status_code == 204
    assert (await client.get(me, headers=bearer(logged_out))).status_code == 401

    stolen = (await log_in(client, "judy")).json()
    rotated = (await refresh(client, stolen["refresh_token"])).json()
    assert (await refresh(client, stolen["refresh_token"])).status_code == 401  # reused
    for session in (stolen, rotated):  # the old access token and the one rotated to
        response = await client.get(me, headers=bearer(session))
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get(me, headers=bearer(bystander.json()))).status_code == 200


async def test_checking_a_token_costs_one_statement(
    client: AsyncClient, make_user: UserFactory, statements: list[str]
) -> None:
    """The user and whether the session lives come in one SELECT: an authenticated read
    costs one statement more than an anonymous one, as it did before sessions could end."""
    user = await make_user("kate")
    statements.clear()
    assert (await client.get("/api/v1/users/me", headers=user["headers"])).status_code == 200
    assert len(statements) == 1, statements
    assert "sessions" in statements[0]
    statements.clear()
    assert (await client.get("/api/v1/tags")).status_code == 200
    anonymous = len(statements)
    statements.clear()
    assert (await client.get("/api/v1/tags", headers=user["headers"])).status_code == 200
    assert len(statements) == anonymous + 1


async def test_an_expired_session_ends_its_access_tokens(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("liam")
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await client.get("/api/v1/users/me", headers=user["headers"])).status_code == 401
    # The next sign-in tidies the ended sessions away.
    await log_in(client, "liam")
    async with transaction(app.state.session_factory, Access.READ) as session:
        left = (
            await session.scalars(select(AuthSession).where(AuthSession.user_id == user["id"]))
        ).all()
    assert len(left) == 1


def refresh_cookie(response: Response) -> dict[str, str]:
    """The refresh cookie's value and attributes, from Set-Cookie."""
    header = response.headers["set-cookie"]
    name_value, *attributes = (part.strip() for part in header.split(";"))
    name, _, value = name_value.partition("=")
    assert name == "refresh_token"
    parsed = {"value": value}
    for attribute in attributes:
        key, _, val = attribute.partition("=")
        parsed[key.lower()] = val
    return parsed


async def test_the_refresh_token_as_a_strict_cookie(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("heidi")
    response = await log_in(client, "heidi", cookie="true")
    body = response.json()
    assert body["refresh_token"] is None
    cookie = refresh_cookie(response)
    assert cookie["path"] == "/api/v1/auth"
    assert cookie["samesite"] == "strict"
    assert {"httponly", "secure"} <= cookie.keys()
    assert int(cookie["max-age"]) == 30 * 24 * 3600

    # The browser sends the cookie back (Secure: over https; set by hand here).
    rotated = await client.post(REFRESH, headers={"Cookie": f"refresh_token={cookie['value']}"})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] is None
    new_cookie = refresh_cookie(rotated)
    assert new_cookie["value"] != cookie["value"]
    reused = await client.post(REFRESH, headers={"Cookie": f"refresh_token={cookie['value']}"})
    assert reused.status_code == 401

    second = refresh_cookie(await log_in(client, "heidi", cookie="true"))
    out = await client.post(LOGOUT, headers={"Cookie": f"refresh_token={second['value']}"})
    assert out.status_code == 204
    assert refresh_cookie(out)["max-age"] == "0"
    assert (await refresh(client, second["value"])).status_code == 401


async def test_swagger_authorize_uses_the_token_endpoint(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    flows = [s["flows"] for s in schemes.values() if s["type"] == "oauth2"]
    assert flows == [{"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/token"}}]
    for path in (REFRESH, LOGOUT, LOGOUT_ALL):
        assert path in schema["paths"]
