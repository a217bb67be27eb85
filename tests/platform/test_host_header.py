"""The Host header, parsed as RFC 9110 says (a host and an optional numeric port), one per
request, checked against ALLOWED_HOSTS; a malformed or doubled Host is a 400 problem even
when every host is allowed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from starlette.types import Message

from blog_api.config import Settings
from blog_api.kit.middleware import parse_host
from blog_api.main import create_app

# Host values that are not a host and an optional numeric port: what follows the last colon
# is not all there is to check.
MALFORMED = (
    "127.0.0.1:80@evil.com",
    "127.0.0.1:evil",
    "api.example.com:80:80",
    "api.example.com:8o",
    "user@api.example.com",
    "api.example.com/evil",
    "api.example.com evil.net",
    "api.example.com\\@evil.net",
    "api..example.com",
    ".api.example.com",
    "[::1",
    "[::1]x",
    "[::1]:80x",
    "[not:an:address]",
    "[::1]@evil.com",
    "",
)

AppMaker = Callable[..., FastAPI]


def test_parse_host() -> None:
    assert parse_host("API.Example.COM:8443") == "api.example.com"
    assert parse_host("api.example.com.") == "api.example.com"
    assert parse_host("api.example.com:") == "api.example.com"  # port = *DIGIT
    assert parse_host("127.0.0.1:8000") == "127.0.0.1"
    assert parse_host("[::1]:8000") == "[::1]"
    assert parse_host("[0:0:0:0:0:0:0:1]") == "[::1]"
    assert parse_host("[2001:DB8::A]:443") == "[2001:db8::a]"
    for value in MALFORMED:
        assert parse_host(value) is None, value


@pytest.fixture
async def make_app(settings: Settings, app: FastAPI) -> AsyncIterator[AppMaker]:
    """Apps of the test settings with these ALLOWED_HOSTS."""
    made: list[FastAPI] = []

    def factory(*hosts: str) -> FastAPI:
        application = create_app(settings.model_copy(update={"allowed_hosts": list(hosts)}))
        made.append(application)
        return application

    yield factory
    for application in made:
        await application.state.engine.dispose()


def _client(application: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=application), base_url="http://test")


async def _raw_get(
    application: FastAPI, headers: list[tuple[bytes, bytes]], http_version: str = "1.1"
) -> tuple[int, dict[str, Any]]:
    """GET /health with exactly these headers (httpx always adds a Host)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": "GET",
        "scheme": "http",
        "path": "/health",
        "raw_path": b"/health",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 12345),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await application(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    content_type = dict(start["headers"]).get(b"content-type", b"")
    parsed = json.loads(body) if content_type.endswith(b"json") else {}
    if start["status"] >= 400:
        assert content_type == b"application/problem+json"
    return start["status"], parsed


async def test_a_malformed_host_is_a_400_with_any_allow_list(make_app: AppMaker) -> None:
    for hosts in (("127.0.0.1", "api.example.com", "*.example.com", "[::1]"), ("*",)):
        application = make_app(*hosts)
        async with _client(application) as client:
            for host in MALFORMED:
                answer = await client.get("/health", headers={"Host": host})
                assert answer.status_code == 400, (hosts, host)
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.json()["status"] == 400


async def test_well_formed_hosts_on_the_list_are_served(make_app: AppMaker) -> None:
    application = make_app("127.0.0.1", "api.example.com", "*.example.org", "[::1]")
    async with _client(application) as client:
        for host in (
            "127.0.0.1",
            "127.0.0.1:8000",
            "API.example.com:443",
            "api.example.com.",
            "blog.example.org:8080",
            "[::1]:8000",
            "[::1]",
            "[0:0::1]:80",
        ):
            answer = await client.get("/health", headers={"Host": host})
            assert answer.status_code == 200, host
        for host in ("127.0.0.2", "[::2]:8000", "example.org", "evil.com"):
            assert (await client.get("/health", headers={"Host": host})).status_code == 400


async def test_two_host_headers_are_a_400(make_app: AppMaker) -> None:
    for hosts in (("api.example.com", "evil.com"), ("*",)):
        application = make_app(*hosts)
        async with _client(application) as client:
            for second in ("evil.com", "api.example.com"):
                headers = [("Host", "api.example.com"), ("Host", second)]
                answer = await client.get("/health", headers=headers)
                assert answer.status_code == 400, (hosts, second)
                assert answer.json()["detail"] == "More than one Host header"
            assert (await client.get("/health", headers={"Host": "api.example.com"})).is_success


async def test_http_1_1_needs_a_host(make_app: AppMaker) -> None:
    anywhere = make_app("*")
    listed = make_app("api.example.com")
    for application in (anywhere, listed):
        status, body = await _raw_get(application, [])
        assert (status, body["detail"]) == (400, "Missing Host header")
    # HTTP/1.0 has no Host to send: served when any host is, refused when the list names some.
    assert (await _raw_get(anywhere, [], http_version="1.0"))[0] == 200
    assert (await _raw_get(listed, [], http_version="1.0"))[0] == 400
    assert (await _raw_get(listed, [(b"host", b"api.example.com")]))[0] == 200
