"""ASGI middlewares: the request id on every response, and a problem for any unhandled error.

The middlewares that refuse a request themselves answer in the shape of the face it was sent
to (`shapes`, kit.problems.ErrorShapes): a problem on the native API, RealWorld's `errors` object
under `/api`."""

from __future__ import annotations

import ipaddress
import itertools
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog_api.kit.errors import DatabaseUnavailableError
from blog_api.kit.problems import PROBLEMS, ErrorShapes, problem

logger = logging.getLogger("blog_api")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# A new request id: this process's random prefix and a counter, 32 hex digits like a UUID's.
# Unique across processes and restarts without a system call per request (uuid4 reads the
# kernel's random source each time; bench/RESULTS.md has what that cost).
_ID_PREFIX = uuid.uuid4().hex[:16]
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


_EMPTY = frozenset({204, 304})
_NOT_ON_ANY = frozenset({b"x-request-id"})
_NOT_ON_EMPTY = frozenset({b"x-request-id", b"content-type"})


class RequestIdMiddleware:
    """Puts `X-Request-ID` on every response (the client's when well formed, else a new one)
    and keeps it in `scope["state"]` for the logs. Outermost, so that every answer has it.

    As it rewrites every response's headers anyway, it also drops `Content-Type` from answers
    that carry no content (204, 304): FastAPI labels them `application/json`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                dropped = _NOT_ON_EMPTY if message["status"] in _EMPTY else _NOT_ON_ANY
                headers = [(k, v) for k, v in message.get("headers", []) if k not in dropped]
                message["headers"] = [*headers, header]
            await send(message)

        await self.app(scope, receive, send_with_id)


class UnhandledErrorMiddleware:
    """Turns any unhandled error into a generic 500 problem, logged with the request id.

    It sits inside the CORS middleware, so a browser can read that 500 too."""

    def __init__(self, app: ASGIApp, shapes: ErrorShapes = PROBLEMS) -> None:
        self.app = app
        self.shapes = shapes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = scope.get("state", {}).get("request_id", "-")
            logger.exception(
                "Unhandled error on %s %s [request_id=%s]",
                scope.get("method"),
                scope.get("path"),
                request_id,
                extra={"request_id": request_id},
            )
            if started:
                raise
            answer = self.shapes.for_path(scope["path"])
            await answer(500, "An unexpected error occurred")(scope, receive, send)


_READ_METHODS = frozenset({"GET", "HEAD"})


class DatabaseFaultMiddleware:
    """A database that cannot serve the request is a 503 problem with Retry-After, never a 500.

    A read whose pooled connection turns out to be dead (the server restarted, or terminated
    the backend) is run once more, on a fresh connection, when nothing has been sent yet: a
    GET changes nothing, so running it twice is safe. Writes are not retried: the client
    cannot know whether a lost commit happened, and decides itself (their 503 says so).
    """

    def __init__(self, app: ASGIApp, shapes: ErrorShapes = PROBLEMS) -> None:
        self.app = app
        self.shapes = shapes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        received: list[Message] = []

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def recording_receive() -> Message:
            message = await receive()
            received.append(message)
            return message

        try:
            await self.app(scope, recording_receive, tracking_send)
            return
        except DatabaseUnavailableError as exc:
            if started:
                raise
            fault = exc
        if fault.connection_lost and scope.get("method") in _READ_METHODS:
            replay = list(received)

            async def replaying_receive() -> Message:
                return replay.pop(0) if replay else await receive()

            logger.info("Retrying %s %s on a fresh connection", scope["method"], scope["path"])
            try:
                await self.app(scope, replaying_receive, tracking_send)
                return
            except DatabaseUnavailableError as exc:
                if started:
                    raise
                fault = exc
        logger.warning(
            "Database unavailable on %s %s [request_id=%s]: %s",
            scope.get("method"),
            scope.get("path"),
            scope.get("state", {}).get("request_id", "-"),
            fault.__cause__ or fault,
        )
        detail = f"{fault.detail}; try again later"
        headers = {"Retry-After": str(fault.retry_after)}
        await self.shapes.for_path(scope["path"])(503, detail, headers=headers)(
            scope, receive, send
        )


class RequestBodyTooLarge(HTTPException):
    """Raised from `receive` when a body grows past the limit. An HTTPException, so that
    FastAPI's body parsing lets it through (it turns other errors into a 400) and the
    problem handler answers it with a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with a 413 problem before reading them whole.

    A declared Content-Length over the limit is refused before a byte of the body is read;
    a chunked body (or a lying Content-Length) is counted as it streams in, and refused the
    moment it passes the limit, so at most `max_bytes` plus one chunk is ever held."""

    def __init__(self, app: ASGIApp, max_bytes: int, shapes: ErrorShapes = PROBLEMS) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.shapes = shapes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value.strip()
                if declared.isdigit() and int(declared) > self.max_bytes:
                    detail = RequestBodyTooLarge(self.max_bytes).detail
                    answer = self.shapes.for_path(scope["path"])
                    await answer(413, detail, headers={"Connection": "close"})(scope, receive, send)
                    return
                break
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise RequestBodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


# RFC 9110 7.2: Host = uri-host [ ":" port ], port = *DIGIT (RFC 3986 3.2.2). The hosts served
# are DNS names (labels of letters, digits, "-" and "_", an optional final dot), IPv4 addresses
# and bracketed IPv6 addresses; nothing else (no "@", no second colon, no letters in the port).
_HOST_FIELD = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?))"
    r"(?::[0-9]{0,5})?"
)


def parse_host(value: str) -> str | None:
    """The host a Host header value names, in the form the allow-list compares: lowercased,
    without the port or a final dot, an IPv6 address bracketed and compressed (`[::1]`).
    None when the value is not a host and an optional numeric port."""
    match = _HOST_FIELD.fullmatch(value)
    if match is None:
        return None
    ipv6, name = match.group("ipv6", "name")
    if ipv6 is not None:
        try:
            return f"[{ipaddress.IPv6Address(ipv6).compressed}]"
        except ValueError:
            return None
    return name.lower().removesuffix(".")


def paths_declaring(app: FastAPI, dependency: Callable[..., Any]) -> dict[str, re.Pattern[str]]:
    """Per method, one pattern for the paths of every route of `app` that declares
    `dependency` (among its route or router dependencies): a route's declaration, read once,
    for a middleware that must also mark the answers the route never produced itself (its
    errors). HEAD goes with GET."""
    patterns: dict[str, list[str]] = {}
    for route in iter_route_contexts(app.routes):
        dependant: Dependant | None = getattr(route, "dependant", None)
        regex: re.Pattern[str] | None = getattr(route, "path_regex", None)
        if dependant is None or regex is None or not route.methods:
            continue
        if any(d.call is dependency for d in _all(dependant)):
            for method in route.methods | ({"HEAD"} if "GET" in route.methods else set()):
                patterns.setdefault(method, []).append(_ANY_GROUP.sub("(?:", regex.pattern))
    return {m: re.compile("|".join(f"(?:{p})" for p in ps)) for m, ps in patterns.items()}


_ANY_GROUP = re.compile(r"\(\?P<[^>]+>")


def _all(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _all(sub)


class SecurityHeadersMiddleware:
    """`X-Content-Type-Options: nosniff` and no `server` banner on every answer, and only the
    configured Host names served (a problem, not a page that could reflect a forged Host into a
    link or redirect); `Cache-Control: no-store` on every answer, errors included, of the
    paths whose routes declare it (`no_store_paths`, from kit.deps.NO_STORE: tokens and
    private data), as RFC 6749 5.1 and 5.2 ask of token answers.

    Whatever the allow-list, a request whose Host is not a host and an optional numeric port,
    that carries two Host headers, or that is HTTP/1.1 without one is a 400 (RFC 9112 3.2):
    with `*` too, since such a Host would otherwise reach every URL the app builds from it."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: list[str],
        no_store_paths: dict[str, re.Pattern[str]] | None = None,
        shapes: ErrorShapes = PROBLEMS,
    ) -> None:
        self.app = app
        self.shapes = shapes
        self.no_store_paths = no_store_paths or {}
        self.any_host = "*" in allowed_hosts
        exact = [h for h in allowed_hosts if not h.startswith("*")]
        self.exact = {parse_host(h) or h.lower() for h in exact}
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    def _host_refused(self, scope: Scope) -> str | None:
        """Why the request's Host is refused, or None when it is served."""
        field: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                if field is not None:
                    return "More than one Host header"
                field = value
        if field is None:
            if self.any_host and scope.get("http_version") == "1.0":
                return None  # HTTP/1.0 need not send one
            return "Missing Host header"
        host = parse_host(field.decode("latin-1"))
        if host is None:
            return "Invalid Host header: a host name or address and an optional numeric port"
        if self.any_host or host in self.exact or host.endswith(self.suffixes):
            return None
        return "Invalid Host header"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        paths = self.no_store_paths.get(scope["method"])
        no_store = paths is not None and paths.match(scope["path"]) is not None
        dropped = _NO_STORE_DROPPED if no_store else _DROPPED

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in dropped]
                headers.append((b"x-content-type-options", b"nosniff"))
                if no_store:
                    headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
                message["headers"] = headers
            await send(message)

        refused = self._host_refused(scope)
        if refused is not None:
            answer = self.shapes.for_path(scope["path"])
            await answer(400, refused)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


_DROPPED = frozenset({b"x-content-type-options", b"server"})
_NO_STORE_DROPPED = _DROPPED | {b"cache-control", b"pragma"}


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, whose refused preflight (a foreign origin, method or header) is a
    problem like every other error instead of a text/plain body."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in {"content-type", "content-length"}
        }
        reason = bytes(response.body).decode("utf-8", "replace")
        return problem(response.status_code, f"CORS preflight refused: {reason}", headers=headers)


class MethodsMiddleware:
    """HEAD on every GET route (the GET's headers, no body), and a 405 whose `Allow` lists
    exactly the methods the path is served with, on either face: the router alone answers
    HEAD with 405, and names only the methods of the first route whose path matched.

    The methods of a path are those of the routes it matches, as the router dispatches them,
    with one rule of OpenAPI's on top (both documents are read that way): a path that is a
    route's own, with no parameter in it, belongs to the routes of that path alone, as a
    concrete path is matched before templated ones. `PUT /api/articles/feed` is a 405 with
    `Allow: GET, HEAD`, not an update of the article whose slug is "feed"."""

    def __init__(self, app: ASGIApp, api: FastAPI, shapes: ErrorShapes = PROBLEMS) -> None:
        self.app = app
        self.api = api
        self.shapes = shapes
        self._table: _RouteTable | None = None

    def _routes(self) -> _RouteTable:
        """Every route with methods, the ones left out of the documents included (docs,
        `/api/openapi.json`): read once, on the first request, when every route is there."""
        if self._table is None:
            templated: list[tuple[re.Pattern[str], frozenset[str]]] = []
            concrete: dict[str, frozenset[str]] = {}
            for route in iter_route_contexts(self.api.routes):
                regex = getattr(route, "path_regex", None)
                if route.methods is None or route.path_format is None or regex is None:
                    continue  # a mount: the app it mounts answers for itself
                methods = frozenset(route.methods)
                if route.param_convertors:
                    templated.append((regex, methods))
                else:
                    concrete[route.path_format] = concrete.get(route.path_format, _NONE) | methods
            self._table = _RouteTable(concrete, templated)
        return self._table

    def _served(self, path: str) -> frozenset[str]:
        routes = self._routes()
        concrete = routes.concrete.get(path)
        if concrete is not None:
            return concrete
        return _NONE.union(*(methods for regex, methods in routes.templated if regex.match(path)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        path: str = scope["path"]

        async def fixing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                served = self._served(path)
                if served:
                    headers = [(k, v) for k, v in message.get("headers", []) if k != b"allow"]
                    headers.append((b"allow", _allow(served).encode("latin-1")))
                    message["headers"] = headers
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        concrete = self._routes().concrete.get(path)
        if concrete is not None and scope["method"] not in concrete:
            # Answered here: the router would hand the path to a templated route that has the
            # method, if one did.
            detail = HTTPStatus.METHOD_NOT_ALLOWED.phrase
            await self.shapes.for_path(path)(405, detail)(scope, receive, fixing_send)
            return
        await self.app(scope, receive, fixing_send)


@dataclass(frozen=True, slots=True)
class _RouteTable:
    concrete: dict[str, frozenset[str]]  # path -> methods, for the paths without a parameter
    templated: list[tuple[re.Pattern[str], frozenset[str]]]


_NONE: frozenset[str] = frozenset()


def _allow(served: frozenset[str]) -> str:
    allowed = served | {"HEAD"} if "GET" in served else served
    return ", ".join(m for m in _METHOD_ORDER if m in allowed)


_METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
