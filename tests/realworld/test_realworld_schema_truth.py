"""The RealWorld face's document says what its server refuses: for every request body and
path value, the document's schema and the server give the same verdict (schema-valid is never
a 422, schema-invalid always is), and what no schema can say is a documented 422."""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import AsyncClient, Response
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from blog_api.kit.rules import (
    COMMENT_BODY_PATTERN,
    IMAGE_URL_PATTERN,
    TAG_INPUT_PATTERN,
    TITLE_PATTERN,
    VISIBLE_PATTERN,
    VISIBLE_TEXT_PATTERN,
    has_visible_character,
)
from blog_api.realworld.schemas import native_rules
from blog_api.users.schemas import EMAIL_PATTERN, UserCreate
from tests.helpers.realworld import create_article, errors_of, register

DOCUMENT_URI = "urn:blog-api-realworld"


@pytest.fixture
async def document(client: AsyncClient) -> dict[str, Any]:
    served: dict[str, Any] = (await client.get("/api/openapi.json")).json()
    return served


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def _valid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    """Whether `value` is valid by `schema`, a part of `document` (its refs resolved there)."""
    registry: Registry = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        _rebase(schema), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return validator.is_valid(value)


def _rebase(node: Any) -> Any:
    """`node` with its local refs (`#/components/...`) pointing into the registered document."""
    if isinstance(node, dict):
        return {
            key: (f"{DOCUMENT_URI}{value}" if key == "$ref" else _rebase(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


def body_schema(document: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    operation = document["paths"][template][method.lower()]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def path_schema(document: dict[str, Any], method: str, template: str, name: str) -> Any:
    operation = document["paths"][template][method.lower()]
    (schema,) = [p["schema"] for p in operation["parameters"] if p["name"] == name]
    return schema


def refused(response: Response) -> bool:
    """The server's verdict on the request's data: a 422 refuses it; anything else (2xx, or
    401/403/404/409 about who asks or what exists) takes it as valid."""
    assert response.status_code < 500, response.text
    return response.status_code == 422


# --- What the document states


async def test_request_fields_state_the_rules_the_server_holds_them_to(
    document: dict[str, Any],
) -> None:
    login = component(document, "LoginUser")["properties"]
    assert login["email"]["pattern"] == login["password"]["pattern"] == VISIBLE_PATTERN
    for name in ("NewUser", "UpdateUser"):
        user = component(document, name)["properties"]
        assert user["username"]["pattern"] == native_rules(UserCreate, "username")["pattern"]
        assert (user["username"]["minLength"], user["username"]["maxLength"]) == (3, 32)
        assert (user["email"]["pattern"], user["email"]["format"]) == (EMAIL_PATTERN, "email")
        password = user["password"]
        assert (password["minLength"], password["maxLength"]) == (8, 72)
        assert password["pattern"] == VISIBLE_TEXT_PATTERN
    update = component(document, "UpdateUser")["properties"]
    (bio, _) = update["bio"]["anyOf"]
    assert bio["maxLength"] == 500
    (image, _) = update["image"]["anyOf"]
    assert image["pattern"] == f"^$|{IMAGE_URL_PATTERN}"
    for name in ("NewArticle", "UpdateArticle"):
        article = component(document, name)["properties"]
        assert article["title"]["pattern"] == TITLE_PATTERN
        assert article["description"]["pattern"] == article["body"]["pattern"]
        assert article["body"]["pattern"] == VISIBLE_TEXT_PATTERN
        assert article["tagList"]["items"]["pattern"] == TAG_INPUT_PATTERN
        assert article["tagList"]["maxItems"] == 10
    assert component(document, "NewComment")["properties"]["body"]["pattern"] == (
        COMMENT_BODY_PATTERN
    )
    comment_id = path_schema(document, "DELETE", "/articles/{slug}/comments/{id}", "id")
    assert comment_id["minimum"] == 0


@pytest.mark.parametrize(
    "text", ["", " ", "\t\n", "\u200b", "\ufeff\u00a0", "\u3164", "a", " a ", "\u00e9", "\x00x"]
)
def test_the_visible_patterns_and_the_blank_rule_agree(text: str) -> None:
    visible = has_visible_character(text)
    assert (re.search(VISIBLE_PATTERN, text) is not None) == visible
    assert (re.fullmatch(VISIBLE_TEXT_PATTERN, text) is not None) == (
        visible and "\x00" not in text
    )


# --- The document and the server agree, case by case


ARTICLE = {"title": "A title", "description": "What it is about", "body": "The text."}

NEW_ARTICLES = [
    {},
    {"title": ""},
    {"title": "   "},
    {"title": "\u200d"},
    {"title": "Red \x1b[31malert"},
    {"title": "tab\there"},
    {"title": "\u202etxt.exe"},
    {"title": "x" * 200},
    {"title": "x" * 201},
    {"description": ""},
    {"description": " \n"},
    {"description": "line one\nline two"},
    {"description": "x" * 301},
    {"body": ""},
    {"body": "\u00a0"},
    {"body": "\x00"},
    {"tagList": []},
    {"tagList": [" Python ", "async"]},
    {"tagList": ["no spaces"]},
    {"tagList": [""]},
    {"tagList": ["x" * 33]},
    {"tagList": ["caf\u00e9"]},
    {"tagList": [f"t{i}" for i in range(11)]},
]


@pytest.mark.parametrize("change", NEW_ARTICLES)
async def test_a_new_article_is_refused_exactly_when_the_schema_refuses_it(
    client: AsyncClient, document: dict[str, Any], change: dict[str, Any]
) -> None:
    jake = await register(client, "jake")
    body = {"article": {**ARTICLE, **change}}
    answer = await client.post("/api/articles", json=body, headers=jake["headers"])
    assert refused(answer) == (
        not _valid(document, body_schema(document, "POST", "/articles"), body)
    )


UPDATES = [
    {"title": "New title"},
    {"title": " "},
    {"title": "bell\x07"},
    {"description": "\u2800"},
    {"description": "New description"},
    {"body": "\t"},
    {"tagList": ["ok", "BAD TAG"]},
    {"tagList": ["ok"]},
]


@pytest.mark.parametrize("change", UPDATES)
async def test_an_article_update_is_refused_exactly_when_the_schema_refuses_it(
    client: AsyncClient, document: dict[str, Any], change: dict[str, Any]
) -> None:
    jake = await register(client, "jake")
    slug = (await create_article(client, jake["headers"]))["slug"]
    body = {"article": change}
    answer = await client.put(f"/api/articles/{slug}", json=body, headers=jake["headers"])
    schema = body_schema(document, "PUT", "/articles/{slug}")
    assert refused(answer) == (not _valid(document, schema, body))


@pytest.mark.parametrize("text", ["Nice.", "", " ", "\n\n", "\u200b", "a\nb", "x" * 5001])
async def test_a_comment_is_refused_exactly_when_the_schema_refuses_it(
    client: AsyncClient, document: dict[str, Any], text: str
) -> None:
    jake = await register(client, "jake")
    slug = (await create_article(client, jake["headers"]))["slug"]
    body = {"comment": {"body": text}}
    answer = await client.post(f"/api/articles/{slug}/comments", json=body, headers=jake["headers"])
    schema = body_schema(document, "POST", "/articles/{slug}/comments")
    assert refused(answer) == (not _valid(document, schema, body))


NEW_USERS = [
    {},
    {"password": "        "},
    {"password": "\u200b" * 8},
    {"password": "short"},
    {"password": "x" * 73},
    {"password": "pass\x00word"},
    {"username": ""},
    {"username": "   "},
    {"username": "ab"},
    {"username": "with space"},
    {"email": ""},
    {"email": " "},
    {"email": "no-at-sign"},
    {"email": "someone@example.test"},
]


@pytest.mark.parametrize("change", NEW_USERS)
async def test_a_registration_is_refused_exactly_when_the_schema_refuses_it(
    client: AsyncClient, document: dict[str, Any], change: dict[str, Any]
) -> None:
    user = {"username": "newbie", "email": "newbie@example.com", "password": "a fine password"}
    body = {"user": {**user, **change}}
    answer = await client.post("/api/users", json=body)
    assert refused(answer) == (not _valid(document, body_schema(document, "POST", "/users"), body))


LOGINS = [
    {"email": "nobody@example.com", "password": "whatever it is"},
    {"email": "", "password": "whatever it is"},
    {"email": "  ", "password": "whatever it is"},
    {"email": "nobody@example.com", "password": ""},
    {"email": "nobody@example.com", "password": "\u3000"},
    {"email": "not even an email", "password": "x"},
    {"email": "a\x00b", "password": "x" * 500},
]


@pytest.mark.parametrize("credentials", LOGINS)
async def test_a_login_is_refused_exactly_when_the_schema_refuses_it(
    client: AsyncClient, document: dict[str, Any], credentials: dict[str, str]
) -> None:
    body = {"user": credentials}
    answer = await client.post("/api/users/login", json=body)
    schema = body_schema(document, "POST", "/users/login")
    assert refused(answer) == (not _valid(document, schema, body))


USER_UPDATES = [
    {"bio": ""},
    {"bio": "I like to skateboard.\nAnd to code."},
    {"bio": "x" * 501},
    {"bio": "nul\x00"},
    {"bio": None},
    {"image": ""},
    {"image": None},
    {"image": "https://example.com/me.png"},
    {"image": "ftp://example.com/me.png"},
    {"image": "not a url"},
    {"username": " "},
    {"username": "jake.renamed"},
    {"password": "        "},
    {"email": "\u200b"},
]


@pytest.mark.parametrize("change", USER_UPDATES)
async def test_a_user_update_is_refused_exactly_when_the_schema_refuses_it(
    client: AsyncClient, document: dict[str, Any], change: dict[str, Any]
) -> None:
    jake = await register(client, "jake")
    body = {"user": change}
    answer = await client.put("/api/user", json=body, headers=jake["headers"])
    assert refused(answer) == (not _valid(document, body_schema(document, "PUT", "/user"), body))


@pytest.mark.parametrize("comment_id", ["-1", "-293", "0", "1", "2147483647", "2147483648"])
async def test_a_comment_id_is_refused_exactly_when_the_schema_refuses_it(
    client: AsyncClient, document: dict[str, Any], comment_id: str
) -> None:
    jake = await register(client, "jake")
    slug = (await create_article(client, jake["headers"]))["slug"]
    answer = await client.delete(
        f"/api/articles/{slug}/comments/{comment_id}", headers=jake["headers"]
    )
    schema = path_schema(document, "DELETE", "/articles/{slug}/comments/{id}", "id")
    assert refused(answer) == (not _valid(document, schema, int(comment_id)))
    if not refused(answer):
        assert errors_of(answer, "/articles/{slug}/comments/{id}", 404) == {
            "comment": ["not found"]
        }


# --- What no schema can say


async def test_following_yourself_is_the_documented_422(
    client: AsyncClient, document: dict[str, Any]
) -> None:
    jake = await register(client, "jake")
    answer = await client.post("/api/profiles/jake/follow", headers=jake["headers"])
    assert errors_of(answer, "/profiles/{username}/follow", 422) == {
        "username": ["You cannot follow yourself"]
    }
    documented = document["paths"]["/profiles/{username}/follow"]["post"]["responses"]["422"]
    assert documented["description"].startswith("Following yourself")
    assert documented["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GenericErrorModel"
    }
