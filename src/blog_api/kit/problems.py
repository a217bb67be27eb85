"""RFC 9457 problem details: the answer to every error, and the handlers that write them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from blog_api.kit.errors import DomainError, InvalidInputError, RateLimitedError

PROBLEM_JSON = "application/problem+json"

_HEADERS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": "Bearer"},
    503: {"Retry-After": "1"},
}


def problem(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


# An error answer in some face's shape: `answer(status, detail, headers=...)`.
ErrorAnswer = Callable[..., Response]


class ErrorShapes:
    """The shape of the errors no face's route answers itself: a middleware's refusal (a body
    too large, a database down, a method not served), a path no route serves, a body found too
    large while a route reads it. Each face names its path prefix and its answer; a request
    gets the answer of the longest prefix its path is under, and a problem under none.

    `ErrorShapes({"/api": realworld_answer, "/api/v1": problem})`: `/api/articles` is answered
    in RealWorld's shape, `/api/v1/posts` and `/health` as problems."""

    def __init__(self, faces: Mapping[str, ErrorAnswer] | None = None) -> None:
        prefixes = [(prefix.rstrip("/"), answer) for prefix, answer in (faces or {}).items()]
        self._faces = sorted(prefixes, key=lambda face: len(face[0]), reverse=True)

    def for_path(self, path: str) -> ErrorAnswer:
        for prefix, answer in self._faces:
            if path == prefix or path.startswith(f"{prefix}/"):
                return answer
        return problem


PROBLEMS = ErrorShapes()


def validation_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return problem(422, detail or "Invalid request", errors=errors)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, InvalidInputError):
        return validation_problem(
            [{"loc": list(exc.loc), "msg": exc.detail, "type": "value_error"}]
        )
    status = exc.status
    headers = _HEADERS.get(status)
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem(status, exc.detail, headers=headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only loc, msg and type: `input` and `ctx` could echo a password back.
    errors = [
        {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    return validation_problem(errors)


def _http_error(shapes: ErrorShapes) -> Callable[[Request, Exception], Any]:
    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
        if status == 400:
            # FastAPI's answer to a body it cannot even parse (invalid UTF-8, absurd nesting):
            # to a client, that is one more invalid body, like malformed JSON (422).
            return validation_problem([{"loc": ["body"], "msg": detail, "type": "body_invalid"}])
        return shapes.for_path(request.url.path)(status, detail, headers=exc.headers)

    return handler


def install_error_handlers(app: FastAPI, shapes: ErrorShapes = PROBLEMS) -> None:
    """Problems for the native routes' errors; `shapes` for the HTTP errors that reach the app
    from outside any face's routes (a path no route serves, a body found too large)."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error(shapes))
