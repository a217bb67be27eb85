"""The OpenAPI document tells the truth, for every operation (new ones included): statuses with
examples of their own, headers, security, and names a client generator turns into good code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.helpers.factories import PostFactory, UserFactory

PROBLEM = "application/problem+json"
METHODS = {"get", "post", "put", "patch", "delete"}
Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_documents_the_statuses_of_its_kind(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        statuses = {int(code) for code in operation["responses"]}
        assert 500 in statuses, where
        assert any(200 <= status < 300 for status in statuses), where
        if operation.get("security"):
            assert {401, 403} <= statuses, where
        if "requestBody" in operation:
            assert {413, 422} <= statuses, where
        if operation.get("parameters"):
            assert 422 in statuses, where
        if "{" in path:
            assert 404 in statuses, where
        if path.startswith("/api/"):
            assert 503 in statuses, where  # every /api operation uses the database


def test_rate_limited_operations_document_429(document: dict[str, Any]) -> None:
    limited = {
        operation["operationId"]
        for _, _, operation in operations(document)
        if "429" in operation["responses"]
    }
    assert {"login", "createUser", "updateMe", "updateUser"} <= limited
    assert not limited & {"listPosts", "getPost", "health"}


def test_every_error_is_a_problem_with_an_example_of_its_own(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            where = f"{method.upper()} {path} {code}"
            assert response.get("description"), where
            if int(code) < 400:
                continue
            media = response["content"][PROBLEM]
            name = "ValidationProblem" if code == "422" else "Problem"
            assert media["schema"] == {"$ref": f"#/components/schemas/{name}"}, where
            example = media["example"]
            assert example["status"] == int(code), where
            assert example["title"] == HTTPStatus(int(code)).phrase, where
            assert example["type"] == "about:blank", where
            assert example["detail"], where
            assert set(example) <= set(schemas[name]["properties"]), where
            if code == "422":
                assert example["errors"], where


def test_headers_are_documented(document: dict[str, Any]) -> None:
    expected = {201: {"Location"}, 401: {"WWW-Authenticate"}, 429: {"Retry-After"}}
    expected[503] = {"Retry-After"}
    headers = document["components"]["headers"]
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            names = set(response.get("headers", {}))
            where = f"{method.upper()} {path} {code}"
            assert {"X-Request-ID", *expected.get(int(code), set())} <= names, where
            assert names <= set(headers), where


def test_names_are_what_a_typescript_developer_would_write(
    app: FastAPI, document: dict[str, Any]
) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert re.fullmatch(r"[a-z][A-Za-z0-9]*", operation["operationId"]), where
        tag = operation.get("tags", [""])[0]
        assert not operation["operationId"].lower().startswith(f"{tag}-"), where
        # FastAPI makes "Read Me" out of read_me when a route has no summary of its own.
        summary = operation.get("summary", "")
        automatic = re.sub(r"([a-z])([A-Z])", r"\1 \2", operation["operationId"]).title()
        assert summary, f"{where}: give the route a summary"
        assert summary != automatic, f"{where}: give the route a real summary"
    for name in document["components"]["schemas"]:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", name), name
    schemas = document["components"]["schemas"]
    assert {"LoginForm", "PostSummaryPage", "TagCountPage", "UserPublicPage"} <= set(schemas)
    assert not any(name.startswith("Body") for name in schemas)


def test_answer_fields_that_are_always_sent_are_required(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    answered: set[str] = set()
    for _, _, operation in operations(document):
        for response in operation["responses"].values():
            for media in response.get("content", {}).values():
                ref = media["schema"].get("$ref", "")
                answered.add(ref.rsplit("/", 1)[-1])
    answered.discard("")
    for name in answered:
        component = schemas[name]
        assert set(component.get("required", [])) == set(component.get("properties", {})), name
    assert "token_type" in schemas["TokenPair"]["required"]
    assert "type" in schemas["Problem"]["required"]


def _security(operation: dict[str, Any]) -> str:
    security = operation.get("security")
    if not security:
        return "none"
    return "optional" if {} in security else "required"


def test_security_marks_optional_and_public_operations(document: dict[str, Any]) -> None:
    kinds = {
        (method, path): _security(operation) for path, method, operation in operations(document)
    }
    assert kinds[("post", "/api/v1/auth/token")] == "none"
    assert kinds[("get", "/health")] == "none"
    assert kinds[("post", "/api/v1/users")] == "optional"
    assert kinds[("get", "/api/v1/posts")] == "optional"
    assert kinds[("get", "/api/v1/users/me")] == "required"
    assert kinds[("post", "/api/v1/posts")] == "required"


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_security_tells_the_truth(client: AsyncClient, document: dict[str, Any]) -> None:
    """Without a token, an operation marked as requiring a login answers 401 and the others do
    not; with a bad token, every operation that reads one answers 401."""
    for path, method, operation in operations(document):
        kind = _security(operation)
        if kind == "none":
            continue
        where = f"{method.upper()} {path}"
        url = _concrete(path)
        anonymous = await client.request(method, url)
        if kind == "required":
            assert anonymous.status_code == 401, where
            assert anonymous.headers["www-authenticate"] == "Bearer", where
        else:
            assert anonymous.status_code != 401, where
        bad = await client.request(method, url, headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401, where
        assert bad.headers["content-type"] == PROBLEM, where


async def test_no_content_answers_carry_no_content_type(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("leaves")
    post = await make_post(user["headers"])
    for url in (f"/api/v1/posts/{post['id']}", "/api/v1/users/me"):
        response = await client.delete(url, headers=user["headers"])
        assert response.status_code == 204
        assert response.content == b""
        assert "content-type" not in response.headers
        assert response.headers["x-request-id"]


def _nullable(schema: dict[str, Any]) -> bool:
    return "null" in repr(schema)


def test_fields_refused_as_null_are_not_nullable(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    user_update = schemas["UserUpdate"]["properties"]
    for name in ("email", "username", "password", "is_active"):
        assert not _nullable(user_update[name]), name
    assert _nullable(user_update["bio"])
    post_update = schemas["PostUpdate"]["properties"]
    for name in ("title", "content", "published", "tags"):
        assert not _nullable(post_update[name]), name
    assert _nullable(post_update["description"])


@pytest.mark.parametrize("field", ["title", "content", "published", "tags"])
async def test_a_null_the_schema_does_not_allow_is_a_422_naming_the_field(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, field: str
) -> None:
    user = await make_user("nulls")
    post = await make_post(user["headers"])
    response = await client.patch(
        f"/api/v1/posts/{post['id']}", headers=user["headers"], json={field: None}
    )
    assert response.status_code == 422
    assert field in response.json()["detail"]


async def test_a_bad_value_of_an_omittable_field_is_reported_at_the_field(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("shorty")
    response = await client.patch(
        "/api/v1/users/me", headers=user["headers"], json={"password": "short"}
    )
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "password"]]
