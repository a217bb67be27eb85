"""The OpenAPI document says what the server does: null only where null is taken, the tag,
title and NUL rules as patterns, HEAD on every GET, and a 405 that lists every method, on both
faces (`/openapi.json` and the RealWorld face's `/api/openapi.json`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import AsyncClient

from blog_api.kit.rules import (
    COMMENT_BODY_PATTERN,
    IMAGE_URL_PATTERN,
    TAG_INPUT_PATTERN,
    TITLE_PATTERN,
    check_comment_body,
    check_image_url,
    check_title,
    normalize_tag,
)
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.realworld import create_article, register


@pytest.fixture
async def schema(client: AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


def properties(schema: dict[str, Any], name: str) -> dict[str, Any]:
    props: dict[str, Any] = schema["components"]["schemas"][name]["properties"]
    return props


def nullable(field: dict[str, Any]) -> bool:
    return field.get("type") == "null" or any(
        option.get("type") == "null" for option in field.get("anyOf", [])
    )


async def test_patch_fields_that_refuse_null_are_not_nullable(
    schema: dict[str, Any], client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    post_update = properties(schema, "PostUpdate")
    assert not any(nullable(post_update[f]) for f in ("title", "content", "published", "tags"))
    assert nullable(post_update["description"])
    user_update = properties(schema, "UserUpdate")
    assert not any(
        nullable(user_update[f])
        for f in ("email", "username", "password", "current_password", "is_active")
    )
    assert nullable(user_update["bio"])
    dependent = schema["components"]["schemas"]["UserUpdate"]["dependentRequired"]
    assert dependent == {"password": ["current_password"], "email": ["current_password"]}

    user = await make_user("nulls")
    post = await make_post(user["headers"])
    for field in ("title", "content", "published", "tags"):
        answer = await client.patch(
            f"/api/v1/posts/{post['id']}", json={field: None}, headers=user["headers"]
        )
        assert answer.status_code == 422, field
    for field in ("email", "username", "password", "current_password", "is_active"):
        answer = await client.patch("/api/v1/users/me", json={field: None}, headers=user["headers"])
        assert answer.status_code == 422, field


async def test_tag_title_and_nul_rules_are_in_the_schema(schema: dict[str, Any]) -> None:
    create = properties(schema, "PostCreate")
    assert create["tags"]["items"]["pattern"] == TAG_INPUT_PATTERN
    assert create["title"]["pattern"] == TITLE_PATTERN
    for field in ("content", "description"):
        text = create[field]
        patterns = [text.get("pattern")] + [o.get("pattern") for o in text.get("anyOf", [])]
        assert "^[^\\u0000]*$" in patterns, field
    assert "pattern" in properties(schema, "UserCreate")["password"]


@pytest.mark.parametrize(
    "raw", [" Python ", "a", "x" * 32, "\tasync\n", "\u212a", "caf\u00e9", "a b", "", "x" * 33]
)
def test_the_tag_pattern_and_the_rule_agree(raw: str) -> None:
    try:
        normalize_tag(raw)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == bool(re.fullmatch(TAG_INPUT_PATTERN, raw))


@pytest.mark.parametrize(
    "title", ["a", " a ", "\u200d", "\ufeffx", "\u3164", "a\x1b", "\u202eabc", "日本", "\u0301"]
)
def test_the_title_pattern_and_the_rule_agree(title: str) -> None:
    try:
        check_title(title.strip())
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == bool(re.fullmatch(TITLE_PATTERN, title))


async def test_a_kelvin_sign_is_no_k(client: AsyncClient, make_user: UserFactory) -> None:
    user = await make_user("kelvin")
    body = {"title": "T", "content": "C", "tags": ["\u212a8s"]}  # "K8s" with a Kelvin sign
    answer = await client.post("/api/v1/posts", json=body, headers=user["headers"])
    assert answer.status_code == 422


async def test_head_answers_every_get_route(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("header")
    post = await make_post(user["headers"])
    for path in ("/api/v1/posts", f"/api/v1/posts/{post['id']}", "/health", "/api/v1/tags"):
        get = await client.get(path)
        head = await client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
    assert (await client.head("/api/v1/posts/999999")).status_code == 404
    assert (await client.head("/api/v1/users/me")).status_code == 401
    assert (await client.head("/api/v1/users/me", headers=user["headers"])).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/users/me", "GET, HEAD, PATCH, DELETE"),
        ("PUT", "/api/v1/posts", "GET, HEAD, POST"),
        ("POST", "/api/v1/users/1", "GET, HEAD, PATCH, DELETE"),
        ("DELETE", "/api/v1/auth/token", "POST"),
        ("PUT", "/health", "GET, HEAD"),
        ("POST", "/api/v1/users/me/posts", "GET, HEAD"),
        ("DELETE", "/api/user", "GET, HEAD, PUT"),
        ("POST", "/api/articles/x", "GET, HEAD, PUT, DELETE"),
        ("PATCH", "/api/articles", "GET, HEAD, POST"),
        ("GET", "/api/users", "POST"),
        ("PUT", "/api/profiles/jake/follow", "POST, DELETE"),
        ("GET", "/api/articles/x/comments/1", "DELETE"),
        ("POST", "/api/tags", "GET, HEAD"),
        ("PUT", "/api/articles/feed", "GET, HEAD"),
        ("POST", "/api/openapi.json", "GET, HEAD"),
        ("OPTIONS", "/api/docs", "GET, HEAD"),
    ],
)
async def test_a_405_lists_every_method_of_the_path(
    client: AsyncClient, method: str, path: str, allow: str
) -> None:
    answer = await client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow
    if path.startswith("/api/") and not path.startswith("/api/v1/"):
        # The RealWorld face answers in its own error shape.
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"errors": {"method": ["Method Not Allowed"]}}
    else:
        assert answer.headers["content-type"] == "application/problem+json"


async def test_a_head_405_has_the_headers_and_no_body(client: AsyncClient) -> None:
    for path, allow in (("/api/users/login", "POST"), ("/api/v1/auth/token", "POST")):
        answer = await client.head(path)
        assert answer.status_code == 405
        assert answer.headers["allow"] == allow
        assert answer.content == b""


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
_SAMPLE = {"integer": "1", "string": "x"}


def _documented_paths(document: dict[str, Any], prefix: str) -> list[tuple[str, str, str]]:
    """(template, a path it matches, the `Allow` it documents) for every path of `document`."""
    out = []
    for template, item in document["paths"].items():
        path = template
        methods = {method.upper() for method in item} & set(_METHODS)
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    sample = _SAMPLE[parameter["schema"]["type"]]
                    path = path.replace("{" + parameter["name"] + "}", sample)
        if "GET" in methods:
            methods.add("HEAD")
        out.append((template, prefix + path, ", ".join(m for m in _METHODS if m in methods)))
    return out


@pytest.mark.parametrize(("url", "prefix"), [("/openapi.json", ""), ("/api/openapi.json", "/api")])
async def test_every_path_of_both_documents_allows_what_it_documents(
    client: AsyncClient, url: str, prefix: str
) -> None:
    """An OPTIONS that is no CORS preflight reaches the router: its 405 lists the methods the
    document gives the path, as schemathesis's Allow check reads it."""
    document = (await client.get(url)).json()
    for template, path, allow in _documented_paths(document, prefix):
        answer = await client.options(path)
        assert answer.status_code == 405, template
        assert answer.headers["allow"] == allow, template


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a.png",
        "HTTP://x.y:80/p?q#f",
        "http://u:p@h/",
        "ftp://x",
        "http://",
        "http:// a",
        "https://:80",
        "http://h\x85",
        "javascript:alert(1)",
        "hTTp://]0@h/",
        "http://[::1]/a.png",
        "https://a\uff20b/",
    ],
)
def test_the_image_url_pattern_and_the_rule_agree(url: str) -> None:
    try:
        check_image_url(url)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == bool(re.fullmatch(IMAGE_URL_PATTERN, url))


@pytest.mark.parametrize("body", ["hi", "\n\n", "a\nb", "\u200b", " x", "\ufeff\u00a0"])
def test_the_comment_pattern_and_the_rule_agree(body: str) -> None:
    try:
        check_comment_body(body)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == bool(re.fullmatch(COMMENT_BODY_PATTERN, body))


async def test_image_and_comment_rules_are_in_the_schema(schema: dict[str, Any]) -> None:
    image = properties(schema, "UserUpdate")["image"]
    patterns = [image.get("pattern")] + [o.get("pattern") for o in image.get("anyOf", [])]
    assert IMAGE_URL_PATTERN in patterns
    assert properties(schema, "CommentCreate")["body"]["pattern"] == COMMENT_BODY_PATTERN


async def test_the_feed_path_is_the_feeds_alone(client: AsyncClient) -> None:
    """A concrete path is matched before a templated one, as both documents are read:
    `/api/articles/feed` is never an article's. No article gets the slug "feed" (a title
    "Feed" gets a suffix, as a repeated title does), so each one can be read at its URL."""
    jake = await register(client, "jake")
    article = await create_article(client, jake["headers"], "Feed")
    assert article["slug"].startswith("feed-")
    read = await client.get(f"/api/articles/{article['slug']}")
    assert read.status_code == 200
    assert read.json()["article"]["title"] == "Feed"
    for method in ("PUT", "DELETE", "POST"):
        body = {"article": {"title": "Changed"}}
        answer = await client.request(
            method, "/api/articles/feed", json=body, headers=jake["headers"]
        )
        assert answer.status_code == 405, method
        assert answer.headers["allow"] == "GET, HEAD"
    feed = await client.get("/api/articles/feed", headers=jake["headers"])
    assert feed.status_code == 200
    assert "articles" in feed.json()
    assert (await client.get("/api/v1/posts/by-slug/feed")).status_code == 404
    bearer = {"Authorization": f"Bearer {jake['token']}"}
    native = await client.post(
        "/api/v1/posts", json={"title": "feed", "content": "Text."}, headers=bearer
    )
    assert native.status_code == 201, native.text
    assert native.json()["slug"].startswith("feed-")
