"""Every Users rule of the HTTP contract."""

from __future__ import annotations

from datetime import datetime

import pytest
from httpx import AsyncClient

from tests.helpers.api import PROFILE_FIELDS, PUBLIC_USER_FIELDS
from tests.helpers.factories import PASSWORD, UserFactory, auth_headers

PRIVATE_FIELDS = {
    "id",
    "username",
    "bio",
    "image",
    "created_at",
    "email",
    "is_active",
    "is_superuser",
    "role",
    "updated_at",
}


def assert_utc_timestamp(value: str) -> None:
    assert value.endswith(("Z", "+00:00")), value
    assert datetime.fromisoformat(value).utcoffset() is not None


async def count_users(client: AsyncClient) -> int:
    total: int = (await client.get("/api/v1/users")).json()["total"]
    return total


async def test_register_returns_private_user_and_location(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users",
        json={"email": "Ada@Example.COM", "username": "Ada_L", "password": PASSWORD, "bio": "hi"},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == PRIVATE_FIELDS
    assert body["email"] == "ada@example.com"
    assert body["username"] == "Ada_L"
    assert body["is_active"] is True
    assert body["is_superuser"] is False
    assert_utc_timestamp(body["created_at"])
    assert_utc_timestamp(body["updated_at"])
    assert response.headers["location"] == f"/api/v1/users/{body['id']}"
    assert (await client.get(response.headers["location"])).status_code == 200
    assert PASSWORD not in response.text
    assert "$2b$" not in response.text


async def test_unknown_fields_are_ignored(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "x@example.com",
            "username": "xx_x",
            "password": PASSWORD,
            "is_superuser": True,
        },
    )
    assert response.status_code == 201
    assert response.json()["is_superuser"] is False


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@example.com", "Taken@Example.Com"])
async def test_duplicate_email_is_409_case_insensitively(
    client: AsyncClient, make_user: UserFactory, email: str
) -> None:
    await make_user("first", email="taken@example.com")
    response = await client.post(
        "/api/v1/users", json={"email": email, "username": "second", "password": PASSWORD}
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "email" in response.json()["detail"]
    assert await count_users(client) == 1


@pytest.mark.parametrize("username", ["Writer", "writer", "WRITER"])
async def test_duplicate_username_is_409_case_insensitively(
    client: AsyncClient, make_user: UserFactory, username: str
) -> None:
    await make_user("Writer")
    response = await client.post(
        "/api/v1/users",
        json={"email": "other@example.com", "username": username, "password": PASSWORD},
    )
    assert response.status_code == 409
    assert "username" in response.json()["detail"]
    assert await count_users(client) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "no-at-sign"),
        ("email", ""),
        ("username", "ab"),
        ("username", "a" * 33),
        ("username", "has space"),
        ("username", "at@sign"),
        ("username", "émile"),
        ("password", "seven77"),
        ("password", "a" * 73),
        # 37 characters but 74 bytes: bcrypt's limit is in bytes.
        ("password", "é" * 37),
        ("bio", "b" * 501),
    ],
)
async def test_invalid_registration_is_422_and_creates_nothing(
    client: AsyncClient, field: str, value: str
) -> None:
    body = {"email": "v@example.com", "username": "valid_name", "password": PASSWORD, field: value}
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 422, response.text
    assert ["body", field] in [e["loc"] for e in response.json()["errors"]]
    assert await count_users(client) == 0


async def test_password_of_exactly_72_bytes_is_accepted_and_works(
    client: AsyncClient, make_user: UserFactory
) -> None:
    password = "é" * 36  # 72 bytes
    await make_user("maxpw", password=password)
    # Not silently truncated: a different 73rd byte is not the same password.
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "maxpw", "password": "é" * 35}
    )
    assert wrong.status_code == 401


@pytest.mark.parametrize("missing", ["email", "username", "password"])
async def test_missing_required_field_is_422(client: AsyncClient, missing: str) -> None:
    body = {"email": "v@example.com", "username": "valid_name", "password": PASSWORD}
    del body[missing]
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert ["body", missing] in [e["loc"] for e in response.json()["errors"]]


async def test_list_users_is_public_newest_first_and_paged(
    client: AsyncClient, make_user: UserFactory
) -> None:
    for name in ("alpha", "bravo", "charlie"):
        await make_user(name)
    response = await client.get("/api/v1/users", params={"per_page": 2})
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 3
    assert page["pages"] == 2
    assert page["page"] == 1
    assert page["per_page"] == 2
    assert [u["username"] for u in page["items"]] == ["charlie", "bravo"]
    assert all(set(u) == PUBLIC_USER_FIELDS for u in page["items"])
    second = (await client.get("/api/v1/users", params={"per_page": 2, "page": 2})).json()
    assert [u["username"] for u in second["items"]] == ["alpha"]


async def test_get_user_is_public_and_404_when_missing(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("visible")
    response = await client.get(f"/api/v1/users/{user['id']}")
    assert response.status_code == 200
    assert set(response.json()) == PROFILE_FIELDS
    missing = await client.get("/api/v1/users/999999")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "User 999999 not found"


@pytest.mark.parametrize("bad_id", ["0", "-1", "abc", str(2**31), str(10**30)])
async def test_out_of_range_user_id_is_422_not_500(client: AsyncClient, bad_id: str) -> None:
    response = await client.get(f"/api/v1/users/{bad_id}")
    assert response.status_code == 422


async def test_me_needs_a_token(client: AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_me_returns_private_user(client: AsyncClient, make_user: UserFactory) -> None:
    user = await make_user("me_myself")
    response = await client.get("/api/v1/users/me", headers=user["headers"])
    assert response.status_code == 200
    assert set(response.json()) == PRIVATE_FIELDS
    assert response.json()["email"] == "me_myself@example.com"


async def test_patch_me_changes_bio_and_username(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("patcher")
    response = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"bio": "new bio", "username": "Patched"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["bio"] == "new bio"
    assert body["username"] == "Patched"
    assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(user["updated_at"])
    # Unknown fields are ignored; is_superuser is not something a user can set.
    again = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"is_superuser": True}
    )
    assert again.status_code == 200
    assert again.json()["is_superuser"] is False


async def test_patch_password_needs_current_password(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("pw_changer")
    new = "a brand new password"
    missing = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"password": new}
    )
    assert missing.status_code == 422
    assert ["body", "current_password"] in [e["loc"] for e in missing.json()["errors"]]
    wrong = await client.patch(
        "/api/v1/users/me",
        headers=user["headers"],
        json={"password": new, "current_password": "not the password"},
    )
    assert wrong.status_code == 403
    # Neither attempt changed anything.
    await auth_headers(client, "pw_changer", PASSWORD)
    ok = await client.patch(
        "/api/v1/users/me",
        headers=user["headers"],
        json={"password": new, "current_password": PASSWORD},
    )
    assert ok.status_code == 200
    await auth_headers(client, "pw_changer", new)
    old = await client.post(
        "/api/v1/auth/token", data={"username": "pw_changer", "password": PASSWORD}
    )
    assert old.status_code == 401


async def test_patch_email_needs_current_password(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("mailer")
    missing = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"email": "new@example.com"}
    )
    assert missing.status_code == 422
    same = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"email": "MAILER@example.com"}
    )
    assert same.status_code == 200, "the same address in other case is no change"
    ok = await client.patch(
        "/api/v1/users/me",
        headers=user["headers"],
        json={"email": "New@Example.com", "current_password": PASSWORD},
    )
    assert ok.status_code == 200
    assert ok.json()["email"] == "new@example.com"
    await auth_headers(client, "NEW@example.com")


async def test_patch_to_taken_email_or_username_is_409_and_changes_nothing(
    client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("holder", email="holder@example.com")
    user = await make_user("mover")
    taken_email = await client.patch(
        "/api/v1/users/me",
        headers=user["headers"],
        json={"email": "HOLDER@example.com", "current_password": PASSWORD, "bio": "x"},
    )
    assert taken_email.status_code == 409
    assert "email" in taken_email.json()["detail"]
    taken_name = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"username": "HOLDER", "bio": "x"}
    )
    assert taken_name.status_code == 409
    assert "username" in taken_name.json()["detail"]
    me = (await client.get("/api/v1/users/me", headers=user["headers"])).json()
    assert me["email"] == "mover@example.com"
    assert me["username"] == "mover"
    assert me["bio"] is None


@pytest.mark.parametrize("field", ["email", "username", "password", "is_active"])
async def test_patch_null_for_required_field_is_422(
    client: AsyncClient, make_user: UserFactory, field: str
) -> None:
    user = await make_user("nuller")
    response = await client.patch("/api/v1/users/me", headers=user["headers"], json={field: None})
    assert response.status_code == 422


async def test_patch_other_user_is_403_for_non_superuser(
    client: AsyncClient, make_user: UserFactory
) -> None:
    victim = await make_user("victim")
    attacker = await make_user("attacker")
    response = await client.patch(
        f"/api/v1/users/{victim['id']}", headers=attacker["headers"], json={"bio": "pwned"}
    )
    assert response.status_code == 403
    assert (await client.get(f"/api/v1/users/{victim['id']}")).json()["bio"] is None


async def test_patch_self_by_id_works_like_me(client: AsyncClient, make_user: UserFactory) -> None:
    user = await make_user("selfish")
    response = await client.patch(
        f"/api/v1/users/{user['id']}", headers=user["headers"], json={"bio": "by id"}
    )
    assert response.status_code == 200
    assert response.json()["bio"] == "by id"


async def test_is_active_is_for_superusers_only(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("wannabe")
    response = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"is_active": False}
    )
    assert response.status_code == 403


async def test_superuser_changes_others_without_current_password(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, object]
) -> None:
    user = await make_user("managed")
    headers = superuser["headers"]
    assert isinstance(headers, dict)
    response = await client.patch(
        f"/api/v1/users/{user['id']}",
        headers=headers,
        json={"email": "managed2@example.com", "password": "reset by admin", "bio": "hello"},
    )
    assert response.status_code == 200
    assert response.json()["email"] == "managed2@example.com"
    await auth_headers(client, "managed", "reset by admin")
    # But changing their own password still needs the current one.
    own = await client.patch("/api/v1/users/me", headers=headers, json={"password": "another one!"})
    assert own.status_code == 422


async def test_deactivated_user_cannot_log_in_or_use_a_token(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, object]
) -> None:
    user = await make_user("sleepy")
    headers = superuser["headers"]
    assert isinstance(headers, dict)
    response = await client.patch(
        f"/api/v1/users/{user['id']}", headers=headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await client.get("/api/v1/users/me", headers=user["headers"])).status_code == 403
    login = await client.post(
        "/api/v1/auth/token", data={"username": "sleepy", "password": PASSWORD}
    )
    assert login.status_code == 403
    # A wrong password still says 401: being inactive is only revealed to the account holder.
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "sleepy", "password": "nope nope"}
    )
    assert wrong.status_code == 401


async def test_superuser_gets_404_for_missing_user(
    client: AsyncClient, superuser: dict[str, object]
) -> None:
    headers = superuser["headers"]
    assert isinstance(headers, dict)
    assert (await client.patch("/api/v1/users/424242", headers=headers, json={})).status_code == 404
    assert (await client.delete("/api/v1/users/424242", headers=headers)).status_code == 404


async def test_delete_me_removes_the_account(client: AsyncClient, make_user: UserFactory) -> None:
    user = await make_user("leaver")
    response = await client.delete("/api/v1/users/me", headers=user["headers"])
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/v1/users/{user['id']}")).status_code == 404
    # The token of a user that no longer exists is a 401.
    gone = await client.get("/api/v1/users/me", headers=user["headers"])
    assert gone.status_code == 401
    assert gone.headers["www-authenticate"] == "Bearer"


async def test_delete_other_user_rules(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, object]
) -> None:
    target = await make_user("target")
    other = await make_user("other")
    assert (
        await client.delete(f"/api/v1/users/{target['id']}", headers=other["headers"])
    ).status_code == 403
    assert (await client.delete(f"/api/v1/users/{target['id']}")).status_code == 401
    headers = superuser["headers"]
    assert isinstance(headers, dict)
    assert (
        await client.delete(f"/api/v1/users/{target['id']}", headers=headers)
    ).status_code == 204
    assert (await client.get(f"/api/v1/users/{target['id']}")).status_code == 404
    assert (
        await client.delete(f"/api/v1/users/{other['id']}", headers=other["headers"])
    ).status_code == 204


async def test_answers_with_private_data_are_never_cached(
    client: AsyncClient, make_user: UserFactory
) -> None:
    """Every answer that carries a user's email, drafts or a token says `no-store`."""
    me = await make_user("private")
    new = {"email": "new@example.com", "username": "newcomer", "password": "long enough"}
    answers = [
        await client.post("/api/v1/users", json=new),
        await client.get("/api/v1/users/me", headers=me["headers"]),
        await client.patch("/api/v1/users/me", headers=me["headers"], json={"bio": "b"}),
        await client.patch(f"/api/v1/users/{me['id']}", headers=me["headers"], json={"bio": "c"}),
        await client.get("/api/v1/users/me/posts", headers=me["headers"]),
        await client.post("/api/v1/auth/token", data={"username": "private", "password": PASSWORD}),
    ]
    for response in answers:
        assert response.status_code in (200, 201), response.text
        assert response.headers["cache-control"] == "no-store", response.request.url
    # Public answers are not marked so.
    public = await client.get(f"/api/v1/users/{me['id']}")
    assert public.status_code == 200
    assert "no-store" not in public.headers.get("cache-control", "")
