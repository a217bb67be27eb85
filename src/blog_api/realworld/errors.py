"""RealWorld's error shape, `{"errors": {"<key>": ["<message>"]}}`, for every route of the face.

The native API answers RFC 9457 problems; the RealWorld face answers the same failures in the
shape RealWorld front-ends read. Every route of the face uses `RealWorldRoute`, which turns what
the services raise (and FastAPI's validation errors) into that shape, so the app-wide problem
handlers never see an error of a RealWorld route.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from blog_api.kit.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceBusyError,
)

# The messages API.md fixes for the RealWorld face.
BLANK = "can't be blank"
TAKEN = "has already been taken"
NOT_FOUND = "not found"
FORBIDDEN = "forbidden"
MISSING = "is missing"
INVALID = "invalid"

# RealWorld's names for the native fields they stand for.
_REALWORLD_NAME = {"content": "body", "tags": "tagList"}
_WHERE = frozenset({"body", "query", "path", "header"})
_WRAPPERS = frozenset({"user", "article", "comment"})

Errors = dict[str, list[str]]


class RealWorldError(Exception):
    """An answer of the face: `status` with `{"errors": errors}`."""

    def __init__(
        self, status: int, errors: Errors, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors
        self.headers = dict(headers or {})


def error(status: int, key: str, message: str, **kwargs: Any) -> RealWorldError:
    return RealWorldError(status, {key: [message]}, **kwargs)


def missing_token() -> RealWorldError:
    return error(401, "token", MISSING, headers={"WWW-Authenticate": "Token"})


def error_response(exc: RealWorldError) -> JSONResponse:
    return JSONResponse({"errors": exc.errors}, status_code=exc.status, headers=exc.headers)


# The key a failure that no route of the face raised is reported under (kit.problems.ErrorShapes
# hands it here): a middleware's refusal, or a path or method the face does not serve.
_PLAIN_KEY = {400: "request", 404: "resource", 405: "method", 413: "body", 503: "database"}


def plain_error(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """`{"errors": {"<key>": ["<detail>"]}}` for a failure answered outside the face's routes:
    `body: ["The request body is larger than 1048576 bytes"]` (413), `resource: ["not found"]`
    (404), `server: [...]` (500)."""
    key = _PLAIN_KEY.get(status, "server" if status >= 500 else "request")
    message = NOT_FOUND if status == 404 else detail
    return error_response(RealWorldError(status, {key: [message]}, headers=headers))


@contextmanager
def about(resource: str) -> Iterator[None]:
    """Name the resource a not-found or forbidden error is about: `with about("comment"): ...`
    answers 404 `comment: ["not found"]` / 403 `comment: ["forbidden"]`."""
    try:
        yield
    except NotFoundError:
        raise error(404, resource, NOT_FOUND) from None
    except PermissionDeniedError:
        raise error(403, resource, FORBIDDEN) from None


def field_name(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """The field an error location points at, by its RealWorld name: `("body", "article",
    "tagList", 3)` is `tagList`, the native `("content",)` is `body`."""
    parts = [part for part in loc if isinstance(part, str)]
    if len(parts) > 1 and parts[0] in _WHERE:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in _WRAPPERS:
        parts = parts[1:]
    name = parts[-1] if parts else "body"
    return _REALWORLD_NAME.get(name, name)


def _message(err: Mapping[str, Any]) -> str:
    if err.get("type") == "missing" or err.get("input", "") is None:
        return BLANK
    msg = str(err.get("msg", "is invalid"))
    return msg.removeprefix("Value error, ")


def validation_errors(errors: list[Any]) -> RealWorldError:
    """422 with one message list per field, from pydantic's or FastAPI's error list."""
    out: Errors = {}
    for err in errors:
        # A field inside a list (tagList[3]) is reported on the list itself.
        out.setdefault(field_name(tuple(err.get("loc", ()))), []).append(_message(err))
    return RealWorldError(422, out or {"body": ["is invalid"]})


def from_validation_error(exc: ValidationError) -> RealWorldError:
    """The native schemas' verdict on input the face translated (their loc is the field)."""
    return validation_errors(list(exc.errors()))


def _translate(exc: Exception) -> RealWorldError | None:
    """The RealWorld answer to an error a route raised, or None to let the app handle it."""
    if isinstance(exc, RealWorldError):
        return exc
    if isinstance(exc, RequestValidationError):
        return validation_errors(list(exc.errors()))
    if isinstance(exc, AuthenticationError):
        return error(401, "token", INVALID, headers={"WWW-Authenticate": "Token"})
    if isinstance(exc, PermissionDeniedError):
        return error(403, "user", exc.detail)
    if isinstance(exc, NotFoundError):
        return error(404, "resource", NOT_FOUND)
    if isinstance(exc, ConflictError):
        # A value another row holds, or a change racing another one (no field to blame).
        return error(409, exc.field, TAKEN) if exc.field else error(409, "resource", exc.detail)
    if isinstance(exc, InvalidInputError):
        return RealWorldError(422, {field_name(exc.loc): [exc.detail]})
    if isinstance(exc, RateLimitedError):
        return error(429, "attempts", exc.detail, headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, ServiceBusyError):
        return error(503, "database", exc.detail, headers={"Retry-After": "1"})
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 400:
        return error(422, "body", "is not valid JSON")
    return None


class RealWorldRoute(APIRoute):
    """A route of the face: its errors are answered in RealWorld's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def realworld_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                translated = _translate(exc)
                if translated is None:
                    raise
                return error_response(translated)

        return realworld_handler
