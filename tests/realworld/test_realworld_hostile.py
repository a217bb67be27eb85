"""Nothing a client can send to the RealWorld face is a 500: malformed bodies, wrong types,
odd characters and absurd values are 4xx answers in RealWorld's error shape, and change
nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.realworld import check, create_article, register

JUNK_BODIES: list[Any] = [
    [],
    "text",
    12,
    None,
    {"user": []},
    {"user": "x"},
    {"article": {"title": ["x"], "description": {}, "body": 1, "tagList": [1, None]}},
    {"article": {"title": "t\x00", "description": "d", "body": "b"}},
    {"article": {"title": "t", "description": "d", "body": "b", "tagList": [["x"]]}},
    {"comment": {"body": {"nested": True}}},
    {"comment": {"body": "\x00"}},
    {"user": {"email": "a@b.c" * 200, "password": "p" * 10_000, "username": "u" * 1000}},
    {"user": {"email": 5, "password": True, "username": None, "bio": 3, "image": []}},
    {"user": {"image": "javascript:alert(1)"}},
]
RAW_BODIES = [
    b"{",
    b"\xff\xfe",
    b"[" * 5000 + b"]" * 5000,
    b'{"user": {"email": 1e999}}',
    # Lone surrogates: valid JSON escapes, not valid text.
    b'{"article": {"title": "\\ud800", "description": "d", "body": "b"}}',
    b'{"user": {"bio": "\\ud83d", "username": "\\udfff"}}',
    b'{"comment": {"body": "\\ud800"}}',
]


async def _targets(client: AsyncClient) -> tuple[dict[str, str], list[tuple[str, str]]]:
    user = await register(client, "jake")
    await register(client, "celeb")
    article = await create_article(client, user["headers"], tags=["dragons"])
    slug = article["slug"]
    comment = await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "hi"}}, headers=user["headers"]
    )
    comment_id = comment.json()["comment"]["id"]
    return user["headers"], [
        ("POST", "/api/users"),
        ("POST", "/api/users/login"),
        ("PUT", "/api/user"),
        ("POST", "/api/articles"),
        ("PUT", f"/api/articles/{slug}"),
        ("POST", f"/api/articles/{slug}/comments"),
        ("DELETE", f"/api/articles/{slug}/comments/{comment_id}x"),
    ]


async def test_junk_bodies_are_4xx_in_realworld_shape_and_change_nothing(
    client: AsyncClient,
) -> None:
    headers, targets = await _targets(client)
    before = check(await client.get("/api/articles", headers=headers), "/articles", 200)
    for method, path in targets:
        for body in JUNK_BODIES:
            response = await client.request(method, path, json=body, headers=headers)
            assert 400 <= response.status_code < 500, (method, path, body, response.text)
            assert isinstance(response.json().get("errors"), dict), response.text
        for raw in RAW_BODIES:
            response = await client.request(
                method,
                path,
                content=raw,
                headers={**headers, "Content-Type": "application/json"},
            )
            assert 400 <= response.status_code < 500, (method, path, raw[:20], response.text)
    after = check(await client.get("/api/articles", headers=headers), "/articles", 200)
    assert after == before
    me = check(await client.get("/api/user", headers=headers), "/user", 200)["user"]
    assert (me["username"], me["bio"], me["image"]) == ("jake", None, None)


@pytest.mark.parametrize(
    "query",
    [
        "limit=99999999999999999999",
        "offset=99999999999999999999",
        "offset=2147483647",
        "tag=%00",
        "author=%00",
        "favorited=%F0%9F%92%A9",
        "tag=" + "x" * 65,
        "limit=1&limit=x",
    ],
)
async def test_odd_list_queries_are_200_or_422(client: AsyncClient, query: str) -> None:
    response = await client.get(f"/api/articles?{query}")
    assert response.status_code in {200, 422}, response.text
    body = response.json()
    if response.status_code == 200:
        check(response, "/articles", 200)
    else:
        assert isinstance(body["errors"], dict)


@pytest.mark.parametrize(
    "path",
    [
        "/api/articles/%00",
        "/api/articles/" + "a" * 5000,
        "/api/articles/%F0%9F%92%A9/comments",
        "/api/profiles/%00",
        "/api/profiles/" + "u" * 5000,
    ],
)
async def test_odd_paths_are_404(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404, response.text
    assert json.loads(response.text)["errors"]
