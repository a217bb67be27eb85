"""Helpers for the RealWorld face's tests: every answer is checked against the RealWorld spec.

`tests/realworld/openapi.yml` is the RealWorld API spec (version 2.0.0, MIT licence, from the
RealWorld project); answers are validated with a JSON Schema validator over its components,
never against hand-written shapes.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from httpx import AsyncClient, Response
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.helpers.factories import PASSWORD

SPEC_PATH = Path(__file__).parents[1] / "realworld" / "openapi.yml"
SPEC_URI = "urn:realworld-spec"
# What the RealWorld conformance suite accepts as a timestamp (fractional seconds required).
TIMESTAMP = re.compile(
    r"^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$"
)


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _registry() -> Registry:
    registry: Registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    return registry


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


# Answers the spec does not list but API.md fixes: Too many attempts (API.md's rate limits) on
# the operations that are limited; a role that may not publish creating an article (Roles).
EXTENSIONS = {
    ("POST", "/users", 429),
    ("POST", "/users/login", 429),
    ("PUT", "/user", 429),
    ("POST", "/articles", 403),
}
GENERIC_ERROR = f"{SPEC_URI}#/components/schemas/GenericErrorModel"


def response_schema_ref(template: str, method: str, status: int) -> str | None:
    """A `$ref` to the JSON schema the spec gives for that answer (None: no body)."""
    if (method, template, status) in EXTENSIONS:
        return GENERIC_ERROR
    responses = spec()["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} may not answer {status}"
    response = responses[str(status)]
    pointer = ["paths", template, method.lower(), "responses", str(status)]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        response = spec()["components"]["responses"][name]
        pointer = ["components", "responses", name]
    if "application/json" not in response.get("content", {}):
        return None
    return f"{SPEC_URI}#/" + _pointer(*pointer, "content", "application/json", "schema")


def validate(body: Any, ref: str) -> None:
    validator = Draft202012Validator({"$ref": ref}, registry=_registry())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


def check(response: Response, template: str, status: int) -> Any:
    """Assert the status, and that the answer is what the spec says that operation answers."""
    method = response.request.method
    assert response.status_code == status, response.text
    ref = response_schema_ref(template, method, status)
    if ref is None:
        assert response.content == b""
        return None
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    validate(body, ref)
    for item in _articles_and_comments(body):
        assert TIMESTAMP.match(item["createdAt"]), item["createdAt"]
        assert TIMESTAMP.match(item["updatedAt"]), item["updatedAt"]
    return body


def _articles_and_comments(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    found = [body[key] for key in ("article", "comment") if key in body]
    for key in ("articles", "comments"):
        found.extend(body.get(key, []))
    return found


def errors_of(response: Response, template: str, status: int) -> dict[str, list[str]]:
    """The `errors` of an error answer (checked against GenericErrorModel)."""
    body = check(response, template, status)
    errors: dict[str, list[str]] = body["errors"]
    return errors


def token_headers(token: str, scheme: str = "Token") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


async def register(
    client: AsyncClient, username: str, *, email: str | None = None, password: str = PASSWORD
) -> dict[str, Any]:
    """A new account through `POST /api/users`; its user plus `headers` carrying its token."""
    body = {
        "user": {
            "username": username,
            "email": email or f"{username}@example.com",
            "password": password,
        }
    }
    response = await client.post("/api/users", json=body)
    user: dict[str, Any] = check(response, "/users", 201)["user"]
    user["headers"] = token_headers(user["token"])
    return user


async def create_article(
    client: AsyncClient,
    headers: dict[str, str],
    title: str = "How to train your dragon",
    *,
    description: str = "Ever wonder how?",
    body: str = "Very carefully.",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    article: dict[str, Any] = {"title": title, "description": description, "body": body}
    if tags is not None:
        article["tagList"] = tags
    response = await client.post("/api/articles", json={"article": article}, headers=headers)
    created: dict[str, Any] = check(response, "/articles", 201)["article"]
    return created
