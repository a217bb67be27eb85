"""The RealWorld face's own OpenAPI document (`/api/openapi.json`) and docs (`/api/docs`).

It is generated from the face's routes, like the native one, and says what the RealWorld spec
says: the same paths (relative to the `/api` server), operation ids, bodies, statuses, the
`Token` security scheme. It adds what the spec leaves out and the server refuses: the rules a
request's values follow (patterns, lengths, bounds: see `schemas.py`), in an operation's
422 what no schema can say (following yourself), and the refusals every operation of a kind
can answer: 413 where a body is read, 429 where attempts are limited, 503 everywhere (each
operation reads the database). `/openapi.json` stays the native API's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import RouteContext, iter_route_contexts

from blog_api.kit.deps import rate_limited
from blog_api.kit.docs import serve_docs
from blog_api.realworld.schemas import GenericErrorModel

PREFIX = "/api"
OPENAPI_URL = f"{PREFIX}/openapi.json"
DOCS_URL = f"{PREFIX}/docs"
REDOC_URL = f"{PREFIX}/redoc"
TITLE = "blog-api: RealWorld (Conduit) API"
SPEC_VERSION = "2.0.0"

_ERROR_DESCRIPTIONS = {
    401: "Unauthorized",
    403: "Forbidden. The error key identifies the resource type (article, comment, etc.)",
    404: "Not Found. The error key identifies the resource type (article, profile, comment, etc.)",
    409: "Conflict - resource already exists",
    413: "The request body is larger than the configured limit",
    422: "Unexpected error",
    429: "Too many attempts: try again after `Retry-After` seconds",
    503: "The database is unavailable: try again after `Retry-After` seconds",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def responses(
    *statuses: int, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The error statuses an operation answers, each with `GenericErrorModel`; `descriptions`
    says what an operation's own refusals are (a 422 the document's schemas cannot state)."""
    own = descriptions or {}
    return {
        code: {"description": own.get(code, _ERROR_DESCRIPTIONS[code]), "model": GenericErrorModel}
        for code in statuses
    }


def build_document(router: APIRouter) -> dict[str, Any]:
    schema = get_openapi(
        title=TITLE,
        version=SPEC_VERSION,
        summary="The RealWorld (Conduit) API, served over the same data as /api/v1",
        description=(
            'Errors are `{"errors": {"<field or resource>": ["<message>"]}}`. '
            "Send the token of `POST /users/login` as `Authorization: Token <jwt>`."
        ),
        routes=router.routes,
        servers=[{"url": PREFIX}],
    )
    for route in iter_route_contexts(router.routes):
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            _document_refusals(operation, route)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _not_nullable(parameter)
            # Where FastAPI documents its own validation error shape (an operation that does
            # not list its 422), the face answers GenericErrorModel.
            response = operation.get("responses", {}).get("422")
            if response is not None and response.get("description") == "Validation Error":
                response["description"] = _ERROR_DESCRIPTIONS[422]
                response["content"] = {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/GenericErrorModel"}
                    }
                }
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema


def _document_refusals(operation: dict[str, Any], route: RouteContext) -> None:
    """The statuses an operation answers for what it is, not for what it does: 413 where a
    body is read, 429 where attempts are rate-limited, 503 (the database is in every one)."""
    statuses = [503]
    if route.body_field is not None:
        statuses.append(413)
    if any(dependency.call is rate_limited for dependency in route.dependant.dependencies):
        statuses.append(429)
    documented = operation.setdefault("responses", {})
    for status in statuses:
        response: dict[str, Any] = {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/GenericErrorModel"}}
            },
        }
        if status in (429, 503):
            response["headers"] = _RETRY_AFTER
        documented.setdefault(str(status), response)


def _not_nullable(parameter: dict[str, Any]) -> None:
    """An optional query parameter is absent, never null (a query string has no null): say
    `string`, as the spec does, rather than FastAPI's `anyOf: [string, null]`."""
    schema = parameter.get("schema", {})
    variants = schema.get("anyOf")
    if isinstance(variants, list) and {"type": "null"} in variants and len(variants) == 2:
        (kept,) = [variant for variant in variants if variant != {"type": "null"}]
        del schema["anyOf"]
        schema.update(kept)


def install_docs(app: FastAPI, router: APIRouter) -> None:
    """Serve the face's document and its docs (Swagger UI, ReDoc; offline) beside the native
    ones."""
    document: dict[str, Any] = {}

    async def openapi_json() -> JSONResponse:
        if not document:
            document.update(build_document(router))
        return JSONResponse(document)

    app.add_api_route(OPENAPI_URL, openapi_json, include_in_schema=False)
    serve_docs(app, openapi_url=OPENAPI_URL, docs_url=DOCS_URL, redoc_url=REDOC_URL, title=TITLE)
