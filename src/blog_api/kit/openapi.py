"""The OpenAPI document: what each operation answers, as the API really answers it.

FastAPI writes the document from the routes; `document_api` then applies the API-wide rules, so
that a new operation follows them without work of its own:

- **Statuses.** An operation documents the statuses its route declares with `problem_responses`
  (the ones only it answers: 403, 404, 409, 429...), plus what every operation of its kind
  answers: 401 and 403 where a token is read (a bad token is a 401 anywhere, an inactive user's
  a 403), 404 where the path names a resource, 413 where a body is read, 422 where input is
  read, 429 where a rate limit applies, 503 where the database is used, and 500 everywhere.
  Every error is `application/problem+json` with an example of its own status.
- **Headers.** `X-Request-ID` on every answer, `Location` on 201, `WWW-Authenticate` on 401,
  `Retry-After` on 429 and 503.
- **Security.** Required where the operation needs a login; optional (`{}` in the list) where
  a token is read when sent; absent where none is read.
- **Names** (stable; a TypeScript developer would write them): operation ids are the route
  functions' names in camelCase (`listPosts`); `Page[TagCount]` is `TagCountPage`; the form of
  operation `login` is `LoginForm`. Every property of a schema that only answers use is
  required: the server always sends it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from blog_api.kit.problems import PROBLEM_JSON
from blog_api.kit.schemas import Problem, ValidationProblem

REF = "#/components/schemas/"
HEADER_REF = "#/components/headers/"

# What each error status means here, and the detail of its example (a route may give its own).
_ERRORS: dict[int, tuple[str, str]] = {
    401: (
        "No valid access token: none where a login is required, or one that is malformed, "
        "expired, or whose user no longer exists",
        "Not authenticated",
    ),
    403: (
        "Not allowed: the caller may not do this, or the account is inactive",
        "Only its author or an editor may change this post",
    ),
    404: ("Not found", "Not Found"),
    409: (
        "Conflict with the current state (a value taken, or a simultaneous change)",
        "The username ann is already taken",
    ),
    413: ("The request body is larger than the configured limit", "The body is too large"),
    422: (
        "Invalid input: each error says where (`loc`) and why (`msg`)",
        "body.email: value is not a valid email address",
    ),
    429: ("Too many attempts: wait `Retry-After` seconds", "Too many attempts; try again later"),
    500: ("An unexpected error, logged with the request id", "An unexpected error occurred"),
    503: (
        "The database is busy or unreachable: retry after `Retry-After` seconds",
        "The database was busy with a conflicting change; try again",
    ),
}
_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id: the one sent when it is 1-128 characters of letters, "
        "digits, '-', '_' and '.', else a new one",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The path of the resource just created",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    },
    "WWW-Authenticate": {
        "description": "The authentication scheme to use",
        "schema": {"type": "string", "example": "Bearer"},
    },
}
_HEADERS_OF_STATUS = {
    201: ("Location",),
    401: ("WWW-Authenticate",),
    429: ("Retry-After",),
    503: ("Retry-After",),
}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def problem_responses(
    *statuses: int, examples: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """Declare the error statuses only this operation answers (`document_api` adds the ones
    every operation of its kind answers), optionally with the detail of each example."""
    examples = examples or {}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if status in examples:
            example = _problem_example(status, examples[status])
            response["content"] = {PROBLEM_JSON: {"example": example}}
        responses[status] = response
    return responses


def operation_id(route: APIRoute) -> str:
    """`list_posts` -> `listPosts`: unique in the app, as the route functions' names are."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


Dependencies = tuple[Callable[..., Any], ...]


@dataclass(frozen=True, slots=True)
class Policies:
    """What an operation's dependencies (direct or not) say about the answers it can give."""

    login_required: Dependencies  # a login is required (else a token read is optional)
    uses_database: Dependencies  # it talks to the database, and so may answer 503
    rate_limited: Dependencies  # it is rate-limited, and so may answer 429


def document_api(app: FastAPI, policies: Policies) -> None:
    """Apply the rules of this module to the app's OpenAPI document (built once, on first use)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        _add_components(schema)
        routes = _routes_by_operation(app)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                route = routes.get((path, method))
                calls = list(_calls(route.dependant)) if route is not None else []
                _document_operation(operation, calls, policies)
        _rename_schemas(schema)
        _require_answer_fields(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _depends_on(calls: list[Callable[..., Any]], any_of: tuple[Callable[..., Any], ...]) -> bool:
    return any(call is dependency for call in calls for dependency in any_of)


def _document_operation(
    operation: dict[str, Any], calls: list[Callable[..., Any]], policies: Policies
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = {int(code) for code in responses if code.isdigit()}
    reads_token = bool(operation.get("security"))
    if reads_token:
        statuses |= {401, 403}
        if _depends_on(calls, policies.login_required):
            operation["security"] = [
                requirement for requirement in operation["security"] if requirement
            ]
        elif {} not in operation["security"]:
            operation["security"].append({})
    if "requestBody" in operation:
        statuses |= {413, 422}
    if operation.get("parameters"):
        statuses.add(422)
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)  # a path names a resource, which may not exist
    if _depends_on(calls, policies.uses_database):
        statuses.add(503)
    if _depends_on(calls, policies.rate_limited):
        statuses.add(429)
    statuses.add(500)

    documented: dict[str, Any] = {}
    for status in sorted(statuses):
        response = responses.get(str(status), {})
        if status >= 400:
            response = _error_response(status, response, operation.get("tags", []))
        headers = response.setdefault("headers", {})
        for name in ("X-Request-ID", *_HEADERS_OF_STATUS.get(status, ())):
            headers[name] = {"$ref": f"{HEADER_REF}{name}"}
        documented[str(status)] = response
    operation["responses"] = documented


def _error_response(status: int, declared: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase
    description, detail = _ERRORS.get(status, (phrase, phrase))
    if status == 404 and tags:
        detail = f"{tags[0].removesuffix('s').capitalize()} 42 not found"  # posts: "Post 42..."
    example = declared.get("content", {}).get(PROBLEM_JSON, {}).get("example")
    name = "ValidationProblem" if status == 422 else "Problem"
    return {
        "description": description,
        "content": {
            PROBLEM_JSON: {
                "schema": {"$ref": f"{REF}{name}"},
                "example": example or _problem_example(status, detail),
            }
        },
    }


def _problem_example(status: int, detail: str) -> dict[str, Any]:
    example: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if status == 422:
        example["errors"] = [
            {
                "loc": ["body", "email"],
                "msg": "value is not a valid email address",
                "type": "value_error",
            }
        ]
    return example


def _add_components(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    # FastAPI's own validation error shapes: this API answers ValidationProblem instead.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for model in (Problem, ValidationProblem):
        defs = model.model_json_schema(ref_template=f"{REF}{{model}}", mode="serialization")
        schemas.update(defs.pop("$defs", {}))
        schemas[model.__name__] = defs
    components.setdefault("headers", {}).update(_HEADERS)


def _routes_by_operation(app: FastAPI) -> dict[tuple[str, str], Any]:
    """(path, method) -> the route (or, on FastAPI versions that include routers lazily, the
    route's context, which answers the same attributes), as the document lists them."""
    iterate = getattr(routing, "iter_route_contexts", None)
    routes: dict[tuple[str, str], Any] = {}
    candidates: Iterable[Any] = iterate(app.routes) if iterate is not None else app.routes
    for route in candidates:
        if getattr(route, "include_in_schema", False) and getattr(route, "dependant", None):
            for method in route.methods or ():
                routes[(route.path_format, method.lower())] = route
    return routes


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


# --- Names

_GENERIC = re.compile(r"([A-Za-z][A-Za-z0-9]*)_([A-Za-z][A-Za-z0-9]*)_")
_BODY = re.compile(r"Body_(.+)")


def _pascal(name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", name)
    return "".join(word[:1].upper() + word[1:] for word in words)


def _rename_schemas(schema: dict[str, Any]) -> None:
    """`Page_TagCount_` -> `TagCountPage`; `Body_login` -> `LoginForm` (or `LoginBody`)."""
    schemas: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    forms = {
        ref.removeprefix(REF)
        for content_type, media in _request_media(schema)
        if content_type in _FORM_TYPES
        for ref in [media.get("schema", {}).get("$ref", "")]
    }
    names: dict[str, str] = {}
    for name in schemas:
        if generic := _GENERIC.fullmatch(name):
            names[name] = generic[2] + generic[1]
        elif body := _BODY.fullmatch(name):
            names[name] = _pascal(body[1]) + ("Form" if name in forms else "Body")
    if not names:
        return
    for old, new in names.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    _replace_refs(schema, {f"{REF}{old}": f"{REF}{new}" for old, new in names.items()})


def _request_media(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            yield from content.items()


def _replace_refs(node: Any, refs: Mapping[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in refs:
            node["$ref"] = refs[ref]
        for value in node.values():
            _replace_refs(value, refs)
    elif isinstance(node, list):
        for value in node:
            _replace_refs(value, refs)


# --- Answers


def _require_answer_fields(schema: dict[str, Any]) -> None:
    """Every property of a schema used only in answers is required: the server always sends
    it (a default is what it sends, not a reason to leave it out)."""
    schemas: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    inputs: set[str] = set()
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            _collect_refs(operation.get("requestBody"), schemas, inputs)
            _collect_refs(operation.get("parameters"), schemas, inputs)
    for name, component in schemas.items():
        properties = component.get("properties")
        if name not in inputs and properties:
            component["required"] = list(properties)


def _collect_refs(node: Any, schemas: Mapping[str, Any], found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            name = ref.removeprefix(REF)
            if name not in found:
                found.add(name)
                _collect_refs(schemas.get(name), schemas, found)
        for value in node.values():
            _collect_refs(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, schemas, found)
