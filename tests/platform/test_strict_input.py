"""Input is parsed strictly: no truthy strings for booleans, no "1.0" for an id, and no
control characters, bidirectional overrides or invisible-only text in titles, usernames
and tags."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from blog_api.kit.rules import check_title, has_visible_character
from tests.helpers.factories import PASSWORD, PostFactory, UserFactory

INVISIBLE_TITLES = [
    "\u200d\u200d\u200d",  # zero-width joiners
    "\ufeff",  # a byte order mark
    "\u200b \u2060",  # zero-width space, word joiner
    "\u3164\u3164",  # Hangul fillers
    "\u2800",  # the blank Braille pattern
]
HOSTILE_TITLES = [
    "Invoice \u202ecod.exe",  # right-to-left override
    "Hello \u2066world\u2069",  # isolates
    "\x1b[2J\x1b[31mred alert",  # terminal escape sequences
    "two\nlines",
    "tab\there",
    "bell\x07",
    "C1 control \x9b",
    "delete \x7f",
]


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "1", "on", None])
async def test_published_must_be_a_json_boolean(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, value: object
) -> None:
    user = await make_user("strict")
    body = {"title": "T", "content": "C", "published": value}
    created = await client.post("/api/v1/posts", json=body, headers=user["headers"])
    assert created.status_code == 422, created.text
    assert created.json()["errors"][0]["loc"] == ["body", "published"]
    post = await make_post(user["headers"], published=False)
    changed = await client.patch(
        f"/api/v1/posts/{post['id']}", json={"published": value}, headers=user["headers"]
    )
    assert changed.status_code == 422
    got = await client.get(f"/api/v1/posts/{post['id']}", headers=user["headers"])
    assert got.json()["published"] is False


async def test_is_active_must_be_a_json_boolean(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, object]
) -> None:
    user = await make_user("flagged")
    for value in ("no", 0, "false"):
        answer = await client.patch(
            f"/api/v1/users/{user['id']}",
            json={"is_active": value},
            headers=superuser["headers"],  # type: ignore[arg-type]
        )
        assert answer.status_code == 422, answer.text
    assert (await client.get("/api/v1/users/me", headers=user["headers"])).status_code == 200


@pytest.mark.parametrize("raw", ["1.0", "+1", " 1", "1_0", "1e0", "٣", "0x1"])
async def test_ids_in_paths_are_decimal_digits(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, raw: str
) -> None:
    user = await make_user("ids")
    post = await make_post(user["headers"])
    assert post["id"] >= 1
    for path in (f"/api/v1/posts/{raw}", f"/api/v1/users/{raw}"):
        answer = await client.get(path)
        assert answer.status_code == 422, (path, answer.text)
    deleted = await client.delete(f"/api/v1/posts/{raw}", headers=user["headers"])
    assert deleted.status_code == 422


@pytest.mark.parametrize("raw", ["1.0", "+1", " 1", "1_0", "1e0", "٣", "0x1"])
async def test_page_numbers_and_sizes_are_decimal_digits(
    client: AsyncClient, make_user: UserFactory, raw: str
) -> None:
    user = await make_user("pager")
    for path in ("/api/v1/posts", "/api/v1/users", "/api/v1/tags", "/api/v1/users/me/posts"):
        for name in ("page", "per_page"):
            answer = await client.get(path, params={name: raw}, headers=user["headers"])
            assert answer.status_code == 422, (path, name, answer.text)
            assert [error["loc"] for error in answer.json()["errors"]] == [["query", name]]
        fine = await client.get(
            path, params={"page": "1", "per_page": "5"}, headers=user["headers"]
        )
        assert fine.status_code == 200, fine.text


@pytest.mark.parametrize("title", INVISIBLE_TITLES + HOSTILE_TITLES)
async def test_titles_refuse_invisible_and_control_text(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, title: str
) -> None:
    user = await make_user("titler")
    body = {"title": title, "content": "Body"}
    created = await client.post("/api/v1/posts", json=body, headers=user["headers"])
    assert created.status_code == 422, created.text
    assert created.json()["errors"][0]["loc"] == ["body", "title"]
    post = await make_post(user["headers"], title="Fine")
    changed = await client.patch(
        f"/api/v1/posts/{post['id']}", json={"title": title}, headers=user["headers"]
    )
    assert changed.status_code == 422
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["title"] == "Fine"


@pytest.mark.parametrize(
    "title",
    ["שלום עולם", "مرحبا", "Zoë\u2019s café", "emoji \U0001f600", "a\u200db", "日本語", "x"],
)
async def test_real_titles_in_any_script_pass(
    client: AsyncClient, make_user: UserFactory, title: str
) -> None:
    user = await make_user("writer")
    created = await client.post(
        "/api/v1/posts", json={"title": title, "content": "Body"}, headers=user["headers"]
    )
    assert created.status_code == 201, created.text
    assert created.json()["title"] == title


@pytest.mark.parametrize("name", ["ab\u202ecd", "evil\x1b[0m", "user\u200d", "\u3164\u3164x"])
async def test_usernames_and_tags_refuse_control_and_bidi_characters(
    client: AsyncClient, make_user: UserFactory, name: str
) -> None:
    body = {"username": name, "email": "odd@example.com", "password": PASSWORD}
    assert (await client.post("/api/v1/users", json=body)).status_code == 422
    user = await make_user("tagger")
    post = {"title": "Tagged", "content": "C", "tags": [name]}
    assert (
        await client.post("/api/v1/posts", json=post, headers=user["headers"])
    ).status_code == 422


def test_the_rules_directly() -> None:
    assert has_visible_character("a")
    assert not has_visible_character(" \u200d\ufeff\u3164")
    for title in INVISIBLE_TITLES + HOSTILE_TITLES:
        with pytest.raises(ValueError, match="must"):
            check_title(title)
    assert check_title("Plain") == "Plain"
