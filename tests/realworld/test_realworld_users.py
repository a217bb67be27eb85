"""RealWorld face: registration, login, the current user and settings (API.md, RealWorld section).

Every answer is validated against the RealWorld spec's schemas (tests/helpers/realworld.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from blog_api.config import Settings
from blog_api.main import create_app
from tests.helpers.factories import PASSWORD, auth_headers
from tests.helpers.realworld import check, errors_of, register, token_headers

USER_FIELDS = {"email", "token", "username", "bio", "image"}


async def test_register_answers_201_with_user_and_a_working_token(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users",
        json={"user": {"username": "Jacob", "email": "Jake@Jake.Jake", "password": "jakejake"}},
    )
    user = check(response, "/users", 201)["user"]
    assert set(user) == USER_FIELDS
    assert user["email"] == "jake@jake.jake"
    assert user["username"] == "Jacob"
    assert user["bio"] is None
    assert user["image"] is None
    assert "jakejake" not in response.text
    me = await client.get("/api/user", headers=token_headers(user["token"]))
    assert check(me, "/user", 200)["user"] == user


async def test_login_by_email_answers_the_user_and_a_token(client: AsyncClient) -> None:
    await register(client, "jake")
    response = await client.post(
        "/api/users/login", json={"user": {"email": "JAKE@example.com", "password": PASSWORD}}
    )
    user = check(response, "/users/login", 200)["user"]
    assert user["username"] == "jake"
    assert user["email"] == "jake@example.com"
    me = await client.get("/api/user", headers=token_headers(user["token"]))
    assert check(me, "/user", 200)["user"]["token"] == user["token"]


@pytest.mark.parametrize(
    ("user", "field"),
    [
        ({"email": "neg@test.com", "password": "negpass", "username": ""}, "username"),
        ({"email": "", "password": "negpass", "username": "neguser"}, "email"),
        ({"email": "neg@test.com", "password": "", "username": "neguser"}, "password"),
        ({"email": "neg@test.com", "password": "negpassword", "username": "   "}, "username"),
        ({"email": "neg@test.com", "password": "negpassword"}, "username"),
        ({"email": None, "password": "negpassword", "username": "neguser"}, "email"),
    ],
)
async def test_register_with_a_blank_field_is_422_cant_be_blank(
    client: AsyncClient, user: dict[str, str | None], field: str
) -> None:
    response = await client.post("/api/users", json={"user": user})
    assert errors_of(response, "/users", 422)[field][0] == "can't be blank"
    login = await client.post(
        "/api/users/login", json={"user": {"email": "neg@test.com", "password": "negpassword"}}
    )
    assert login.status_code == 401


@pytest.mark.parametrize(
    ("user", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "username": "someone"}, "email"),
        ({"email": "a@example.com", "password": "short", "username": "someone"}, "password"),
        ({"email": "a@example.com", "password": "x" * 73, "username": "someone"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "username": "has space"}, "username"),
    ],
)
async def test_register_breaking_a_native_rule_is_422_on_that_field(
    client: AsyncClient, user: dict[str, str], field: str
) -> None:
    response = await client.post("/api/users", json={"user": user})
    errors = errors_of(response, "/users", 422)
    assert list(errors) == [field]
    assert errors[field][0]


async def test_register_without_the_user_wrapper_is_422(client: AsyncClient) -> None:
    response = await client.post("/api/users", json={"username": "x", "email": "x@x.io"})
    assert "user" in errors_of(response, "/users", 422)
    response = await client.post(
        "/api/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "errors" in response.json()


@pytest.mark.parametrize(
    ("user", "field"),
    [
        ({"email": "jake@example.com", "password": PASSWORD, "username": "other"}, "email"),
        ({"email": "JAKE@example.com", "password": PASSWORD, "username": "other"}, "email"),
        ({"email": "new@example.com", "password": PASSWORD, "username": "JAKE"}, "username"),
    ],
)
async def test_register_taken_email_or_username_is_409_has_already_been_taken(
    client: AsyncClient, user: dict[str, str], field: str
) -> None:
    await register(client, "jake")
    response = await client.post("/api/users", json={"user": user})
    assert errors_of(response, "/users", 409) == {field: ["has already been taken"]}


@pytest.mark.parametrize(
    ("credentials", "field"),
    [
        ({"email": "", "password": "pass"}, "email"),
        ({"email": "jake@example.com", "password": ""}, "password"),
        ({"password": "pass"}, "email"),
    ],
)
async def test_login_with_a_blank_field_is_422(
    client: AsyncClient, credentials: dict[str, str], field: str
) -> None:
    response = await client.post("/api/users/login", json={"user": credentials})
    assert errors_of(response, "/users/login", 422)[field] == ["can't be blank"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "jake@example.com", "password": "wrongpassword123"},
        {"email": "nobody@example.com", "password": PASSWORD},
    ],
)
async def test_wrong_login_is_401_credentials_invalid(
    client: AsyncClient, credentials: dict[str, str]
) -> None:
    await register(client, "jake")
    response = await client.post("/api/users/login", json={"user": credentials})
    assert errors_of(response, "/users/login", 401) == {"credentials": ["invalid"]}


async def test_current_user_without_token_is_401_token_is_missing(client: AsyncClient) -> None:
    response = await client.get("/api/user")
    assert errors_of(response, "/user", 401) == {"token": ["is missing"]}
    response = await client.put("/api/user", json={"user": {"email": "x@test.com"}})
    assert errors_of(response, "/user", 401) == {"token": ["is missing"]}


async def test_bearer_scheme_works_too_and_a_bad_token_is_401(client: AsyncClient) -> None:
    user = await register(client, "jake")
    bearer = await client.get("/api/user", headers=token_headers(user["token"], "Bearer"))
    assert check(bearer, "/user", 200)["user"]["username"] == "jake"
    for headers in (
        token_headers("not-a-jwt"),
        token_headers(user["token"] + "x"),
        {"Authorization": f"Basic {user['token']}"},
    ):
        response = await client.get("/api/user", headers=headers)
        assert list(errors_of(response, "/user", 401)) == ["token"]


async def test_update_user_is_partial_and_answers_a_fresh_token(client: AsyncClient) -> None:
    user = await register(client, "jake")
    response = await client.put(
        "/api/user",
        headers=user["headers"],
        json={"user": {"bio": "I like to skateboard"}},
    )
    updated = check(response, "/user", 200)["user"]
    assert updated["bio"] == "I like to skateboard"
    assert updated["email"] == "jake@example.com"
    assert updated["username"] == "jake"
    me = await client.get("/api/user", headers=token_headers(updated["token"]))
    assert {k: v for k, v in check(me, "/user", 200)["user"].items() if k != "token"} == {
        k: v for k, v in updated.items() if k != "token"
    }
    # "" clears the bio (stored as null).
    response = await client.put("/api/user", headers=user["headers"], json={"user": {"bio": ""}})
    assert check(response, "/user", 200)["user"]["bio"] is None


async def test_update_email_and_password_then_log_in_with_them(client: AsyncClient) -> None:
    user = await register(client, "jake")
    response = await client.put(
        "/api/user",
        headers=user["headers"],
        json={"user": {"email": "New@Example.com", "password": "a new password"}},
    )
    updated = check(response, "/user", 200)["user"]
    assert updated["email"] == "new@example.com"
    # The answer's token works at once, although every older token is ended by the change.
    assert (
        await client.get("/api/user", headers=token_headers(updated["token"]))
    ).status_code == 200
    login = await client.post(
        "/api/users/login",
        json={"user": {"email": "new@example.com", "password": "a new password"}},
    )
    assert check(login, "/users/login", 200)["user"]["username"] == "jake"
    old = await client.post(
        "/api/users/login", json={"user": {"email": "jake@example.com", "password": PASSWORD}}
    )
    assert old.status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"email": ""},
        {"email": None},
        {"username": ""},
        {"username": None},
        {"password": ""},
        {"password": None},
        {"password": "short"},
        {"email": "not-an-email"},
    ],
)
async def test_update_user_refuses_blank_null_or_invalid_values_and_changes_nothing(
    client: AsyncClient, change: dict[str, str | None]
) -> None:
    user = await register(client, "jake")
    response = await client.put("/api/user", headers=user["headers"], json={"user": change})
    errors = errors_of(response, "/user", 422)
    assert list(errors) == list(change)
    if change[next(iter(change))] in ("", None):
        assert errors == {next(iter(change)): ["can't be blank"]}
    me = check(await client.get("/api/user", headers=user["headers"]), "/user", 200)["user"]
    assert me["email"] == "jake@example.com"
    assert me["username"] == "jake"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"username": "Celeb"}, "username"), ({"email": "CELEB@example.com"}, "email")],
)
async def test_update_to_a_taken_username_or_email_is_422(
    client: AsyncClient, change: dict[str, str], field: str
) -> None:
    """422, not 409: the spec lists no 409 for PUT /user, and front-ends show a 422's errors."""
    await register(client, "celeb")
    user = await register(client, "jake")
    response = await client.put("/api/user", headers=user["headers"], json={"user": change})
    assert errors_of(response, "/user", 422) == {field: ["has already been taken"]}
    me = check(await client.get("/api/user", headers=user["headers"]), "/user", 200)["user"]
    assert (me["username"], me["email"]) == ("jake", "jake@example.com")


def _claims(app: FastAPI, token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, app.state.settings.jwt_secret, algorithms=["HS256"])
    return claims


def _signed_in_ago(app: FastAPI, token: str, ago: timedelta) -> str:
    """`token` as if its session's sign-in had been `ago` in the past (a token of the same
    session, signed by the app's secret)."""
    claims = _claims(app, token)
    signed_in = datetime.now(UTC) - ago
    claims |= {"iat": signed_in.timestamp(), "auth_time": signed_in.timestamp()}
    return jwt.encode(claims, app.state.settings.jwt_secret, algorithm="HS256")


@pytest.mark.parametrize("change", [{"email": "other@example.com"}, {"password": "a new password"}])
async def test_email_or_password_change_needs_a_recent_sign_in(
    app: FastAPI, client: AsyncClient, change: dict[str, str]
) -> None:
    user = await register(client, "jake")
    old = token_headers(_signed_in_ago(app, user["token"], timedelta(minutes=11)))
    assert (await client.get("/api/user", headers=old)).status_code == 200
    response = await client.put("/api/user", headers=old, json={"user": change})
    assert list(errors_of(response, "/user", 401)) == ["token"]
    # Other changes need no recent sign-in; re-sending the same email is no change.
    for harmless in ({"bio": "still me"}, {"email": "JAKE@example.com"}):
        ok = await client.put("/api/user", headers=old, json={"user": harmless})
        assert check(ok, "/user", 200)["user"]["email"] == "jake@example.com"
    recent = token_headers(_signed_in_ago(app, user["token"], timedelta(minutes=9)))
    response = await client.put("/api/user", headers=recent, json={"user": change})
    check(response, "/user", 200)


async def test_a_token_handed_back_by_an_update_is_no_fresher_than_its_sign_in(
    app: FastAPI, client: AsyncClient
) -> None:
    """A stolen token of any age cannot be turned into a recent one: the token an update
    answers keeps the time of the session's sign-in (`auth_time`), so it cannot then change
    the password or the email."""
    user = await register(client, "jake")
    stolen = token_headers(_signed_in_ago(app, user["token"], timedelta(hours=3)))
    bio = await client.put("/api/user", headers=stolen, json={"user": {"bio": "x"}})
    handed_back = check(bio, "/user", 200)["user"]["token"]
    assert (
        _claims(app, handed_back)["auth_time"]
        == _claims(app, stolen["Authorization"][6:])["auth_time"]
    )
    for change in ({"password": "taken over!"}, {"email": "thief@example.com"}):
        response = await client.put(
            "/api/user", headers=token_headers(handed_back), json={"user": change}
        )
        assert list(errors_of(response, "/user", 401)) == ["token"]
    login = await client.post(
        "/api/users/login", json={"user": {"email": "jake@example.com", "password": PASSWORD}}
    )
    check(login, "/users/login", 200)


async def test_a_password_change_keeps_the_token_that_made_it(client: AsyncClient) -> None:
    """As the RealWorld suite does: change the password with PUT /user, then go on with the
    same token. The user's other sessions end (a native login's tokens included)."""
    user = await register(client, "jake")
    elsewhere = await client.post(
        "/api/users/login", json={"user": {"email": "jake@example.com", "password": PASSWORD}}
    )
    other = token_headers(check(elsewhere, "/users/login", 200)["user"]["token"])
    native = await auth_headers(client, "jake", PASSWORD)
    response = await client.put(
        "/api/user", headers=user["headers"], json={"user": {"password": "a new password"}}
    )
    handed_back = check(response, "/user", 200)["user"]["token"]
    for headers in (user["headers"], token_headers(handed_back)):
        check(await client.get("/api/user", headers=headers), "/user", 200)
    for headers in (other, native):
        assert (await client.get("/api/user", headers=headers)).status_code == 401
    assert (await client.get("/api/v1/users/me", headers=native)).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/api/users",
            {"user": {"username": "new", "email": "n@x.io", "password": "p" * 8}},
        ),
        ("POST", "/api/users/login", {"user": {"email": "jake@example.com", "password": PASSWORD}}),
        ("GET", "/api/user", None),
        ("PUT", "/api/user", {"user": {"bio": "cached?"}}),
    ],
)
async def test_answers_with_a_token_are_never_cached(
    client: AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    user = await register(client, "jake")
    response = await client.request(method, path, headers=user["headers"], json=body)
    assert response.status_code in (200, 201), response.text
    assert "token" in response.json()["user"]
    assert response.headers["cache-control"] == "no-store"


async def test_registration_login_and_password_changes_share_the_native_limits(
    settings: Settings, app: FastAPI
) -> None:
    """/api counts against the same limits as /api/v1: 429 with Retry-After, in RealWorld's
    error shape."""
    limits = {
        "login_failures_per_account": 2,
        "login_attempts_per_address": 50,
        "registrations_per_address": 2,
        "password_changes_per_account": 1,
    }
    application = create_app(settings.model_copy(update=limits))
    try:
        transport = ASGITransport(app=application, client=("10.1.2.3", 1234))
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            native = {"username": "native", "email": "native@example.com", "password": PASSWORD}
            assert (await client.post("/api/v1/users", json=native)).status_code == 201
            jake = await register(client, "jake")
            refused = await client.post(
                "/api/users",
                json={
                    "user": {"username": "third", "email": "x3@example.com", "password": PASSWORD}
                },
            )
            assert errors_of(refused, "/users", 429)
            assert int(refused.headers["retry-after"]) >= 1
            wrong = {"user": {"email": "jake@example.com", "password": "wrong password"}}
            for _ in range(2):
                assert (await client.post("/api/users/login", json=wrong)).status_code == 401
            right = {"user": {"email": "jake@example.com", "password": PASSWORD}}
            locked = await client.post("/api/users/login", json=right)
            assert errors_of(locked, "/users/login", 429)
            change = {"user": {"password": "another password"}}
            first = await client.put("/api/user", json=change, headers=jake["headers"])
            headers = token_headers(check(first, "/user", 200)["user"]["token"])
            second = await client.put("/api/user", json=change, headers=headers)
            assert errors_of(second, "/user", 429)
    finally:
        await application.state.engine.dispose()


async def test_image_is_set_cleared_with_empty_string_and_checked(client: AsyncClient) -> None:
    user = await register(client, "jake")
    image = "https://example.com/jake.jpg"
    response = await client.put(
        "/api/user", headers=user["headers"], json={"user": {"image": image}}
    )
    assert check(response, "/user", 200)["user"]["image"] == image
    profile = await client.get("/api/profiles/jake")
    assert check(profile, "/profiles/{username}", 200)["profile"]["image"] == image
    for bad in ("ftp://example.com/x.png", "not a url", "https://" + "x" * 500):
        refused = await client.put(
            "/api/user", headers=user["headers"], json={"user": {"image": bad}}
        )
        assert list(errors_of(refused, "/user", 422)) == ["image"]
    me = check(await client.get("/api/user", headers=user["headers"]), "/user", 200)["user"]
    assert me["image"] == image
    cleared = await client.put("/api/user", headers=user["headers"], json={"user": {"image": ""}})
    assert check(cleared, "/user", 200)["user"]["image"] is None
    nulled = await client.put(
        "/api/user", headers=user["headers"], json={"user": {"image": image, "bio": None}}
    )
    assert check(nulled, "/user", 200)["user"]["image"] == image
    assert (
        check(await client.get("/api/user", headers=user["headers"]), "/user", 200)["user"]["bio"]
        is None
    )
