"""What `python -m blog_api serve` runs, over real sockets on 127.0.0.1: forwarded headers
believed only from the proxies FORWARDED_ALLOW_IPS names, and a cap on the request line and
headers (a 431 problem past it, before the rest is buffered)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from blog_api.config import Settings
from blog_api.kit.server import uvicorn_options
from blog_api.main import create_app
from tests.helpers.factories import PASSWORD
from tests.helpers.project import ROOT, free_port

KIB = 1024
MIB = 1024 * KIB
DEFAULT_CAP = 64 * KIB
LIMITS = {
    "login_attempts_per_address": 3,
    "registrations_per_address": 2,
    "login_failures_per_account": 0,
    "password_changes_per_account": 0,
}

Served = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


# --- An in-process server, configured as `serve` configures it


@pytest.fixture
def served(settings: Settings, app: FastAPI) -> Served:
    """`served(**settings)`: an async context giving a client of a Uvicorn server on a free
    127.0.0.1 port, running an app of those settings with `uvicorn_options(settings)`."""

    @asynccontextmanager
    async def serve(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        configured = settings.model_copy(update=overrides)
        application = create_app(configured)
        config = uvicorn.Config(application, **uvicorn_options(configured), log_config=None)
        server = uvicorn.Server(config)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                assert not task.done(), "the server did not start"
                await asyncio.sleep(0.01)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                yield client
        finally:
            server.should_exit = True
            await task
            sock.close()

    return serve


async def _login(client: httpx.AsyncClient, forwarded_for: str) -> int:
    form = {"username": "nobody", "password": "wrong guess"}
    headers = {"X-Forwarded-For": forwarded_for}
    return (await client.post("/api/v1/auth/token", data=form, headers=headers)).status_code


async def _register(client: httpx.AsyncClient, name: str, forwarded_for: str) -> int:
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    headers = {"X-Forwarded-For": forwarded_for}
    return (await client.post("/api/v1/users", json=body, headers=headers)).status_code


async def test_forwarded_headers_from_an_unnamed_peer_are_ignored(served: Served) -> None:
    # Nothing named: a client on this host cannot pick a fresh address per request.
    async with served(**LIMITS) as client:
        logins = [await _login(client, f"10.1.0.{i}") for i in range(1, 6)]
        assert logins == [401, 401, 401, 429, 429]
        signups = [await _register(client, f"rotating{i}", f"10.2.0.{i}") for i in range(3)]
        assert signups == [201, 201, 429]
        # Nor can it pick the scheme of the URLs the app builds.
        redirect = await client.get("/api/v1/tags/", headers={"X-Forwarded-Proto": "https"})
        assert redirect.headers["location"].startswith("http://127.0.0.1:")
    # A proxy named, but not this peer: the same.
    async with served(**LIMITS, forwarded_allow_ips=["10.0.0.5", "192.168.0.0/16"]) as client:
        logins = [await _login(client, f"10.3.0.{i}") for i in range(1, 5)]
        assert logins == [401, 401, 401, 429]


@pytest.mark.parametrize("trusted", [["127.0.0.1"], ["10.0.0.5", "127.0.0.0/8"]])
async def test_a_named_proxy_gives_the_forwarded_address(
    served: Served, trusted: list[str]
) -> None:
    async with served(**LIMITS, forwarded_allow_ips=trusted) as client:
        # Each forwarded address counts alone...
        assert [await _login(client, f"10.4.0.{i}") for i in range(1, 6)] == [401] * 5
        # ...and is what the limit counts: the same one, four times, is refused the fourth.
        assert [await _login(client, "10.5.0.1") for _ in range(4)] == [401, 401, 401, 429]
        assert await _login(client, "10.5.0.2") == 401
        # The address is the last one a named proxy did not add: what the client wrote in
        # front of it (the proxy appends the address it saw) changes nothing.
        chain = [await _login(client, f"10.7.0.{i}, 10.8.0.1") for i in range(1, 5)]
        assert chain == [401, 401, 401, 429]
        signups = [await _register(client, f"proxied{i}", f"10.6.0.{i}") for i in range(3)]
        assert signups == [201, 201, 201]
        redirect = await client.get("/api/v1/tags/", headers={"X-Forwarded-Proto": "https"})
        assert redirect.headers["location"].startswith("https://127.0.0.1:")


async def test_the_header_cap_is_a_setting(served: Served) -> None:
    async with served(max_request_header_bytes=8 * KIB) as client:
        assert (await client.get("/health", headers={"X-Pad": "a" * (6 * KIB)})).is_success
        refused = await client.get("/health", headers={"X-Pad": "a" * (10 * KIB)})
        _assert_431(refused, 8 * KIB)


def test_forwarded_allow_ips_setting() -> None:
    def parsed(value: str) -> list[str]:
        return Settings(
            _env_file=None, environment="test", forwarded_allow_ips=value
        ).forwarded_allow_ips

    assert Settings(_env_file=None, environment="test").forwarded_allow_ips == []
    assert parsed("") == []
    # Host bits of a network are cleared: Uvicorn would take 10.0.0.1/8 for a name.
    assert parsed(" 10.0.0.1/8, 127.0.0.1 ,::1") == ["10.0.0.0/8", "127.0.0.1", "::1"]
    assert parsed("*") == ["*"]
    for wrong in ("proxy.internal", "10.0.0.300", "10.0.0.0/33"):
        with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS"):
            parsed(wrong)
    nothing = uvicorn_options(Settings(_env_file=None, environment="test"))
    assert nothing["proxy_headers"] is False
    named = uvicorn_options(
        Settings(_env_file=None, environment="test", forwarded_allow_ips="10.0.0.5")
    )
    assert (named["proxy_headers"], named["forwarded_allow_ips"]) == (True, ["10.0.0.5"])


# --- `python -m blog_api serve` in a process of its own, with the default settings


class Server:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def peak_rss_kib(self) -> int:
        """The most memory the server process has held at once (VmHWM), in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/<pid>/status")

    def raw(self, request: bytes) -> bytes:
        """Send `request` as it is on a connection of its own; what came back before the
        server closed it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            # Refused mid-way, the server closes the connection while it is being sent.
            with contextlib.suppress(OSError):
                sock.sendall(request)
            answer = b""
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    answer += chunk
            return answer


# Settings of the shell running the tests that would change what these servers do.
_SETTINGS_OF_THE_SHELL = {
    "SECRET_KEY",
    "WORKERS",
    "HOST",
    "ALLOWED_HOSTS",
    "MAX_REQUEST_HEADER_BYTES",
    "FORWARDED_ALLOW_IPS",
}


@contextlib.contextmanager
def _running(tmp_path: Path, port: int, *command: str, **env: str) -> Iterator[Server]:
    """`python -m <command>` serving on `port`, run in `tmp_path` (no .env there)."""
    variables = {k: v for k, v in os.environ.items() if k not in _SETTINGS_OF_THE_SHELL}
    log = tmp_path / f"server-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=tmp_path,
            env={
                **variables,
                "ENVIRONMENT": "development",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
                "PYTHONPATH": str(ROOT / "src"),
                "PORT": str(port),
                "LOG_LEVEL": "warning",
                "COUNTER_FOLD_SECONDS": "0",  # the database has no tables: /health needs none
                **env,
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    served = Server(process, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{served.url}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`python -m blog_api serve` with the default settings."""
    with _running(tmp_path_factory.mktemp("serve"), free_port(), "blog_api", "serve") as served:
        yield served


def _assert_431(response: httpx.Response, cap: int) -> None:
    assert response.status_code == 431, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    assert response.json() == {
        "type": "about:blank",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": f"The request line and headers are larger than {cap} bytes",
    }


def test_headers_over_64_kib_are_a_431_problem(server: Server) -> None:
    _assert_431(httpx.get(f"{server.url}/health", headers={"X-Pad": "a" * (70 * KIB)}), DEFAULT_CAP)
    # Many small headers count together, and the request line counts too.
    many = {f"X-Pad-{i}": "a" * 100 for i in range(700)}
    _assert_431(httpx.get(f"{server.url}/health", headers=many), DEFAULT_CAP)
    url = f"GET /health?q={'a' * (70 * KIB)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    line = server.raw(url)
    assert line.startswith(b"HTTP/1.1 431 "), line[:100]
    assert json.loads(line.split(b"\r\n\r\n", 1)[1])["status"] == 431
    # Under the cap, and after a refusal: served as usual.
    assert httpx.get(f"{server.url}/health", headers={"X-Pad": "a" * (60 * KIB)}).is_success
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}


def test_a_body_is_not_counted_as_headers(server: Server) -> None:
    body = b'{"username": "' + b"a" * (500 * KIB) + b'"}'
    answer = httpx.post(
        f"{server.url}/api/v1/users", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text


def test_pipelined_requests_before_an_oversized_head_are_answered_first(server: Server) -> None:
    small = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    big = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * (70 * KIB) + b"\r\n\r\n"
    answer = server.raw(small * 3 + big)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"200", b"200", b"200", b"431"]
    # Many small ones in one write: none is taken for an oversized head.
    answer = server.raw(small * 400 + small.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    assert answer.count(b"HTTP/1.1 200 ") == 401


def test_chunked_trailers_count_like_headers(server: Server) -> None:
    """A chunked body ends with header fields (trailers), which the parser holds whole too."""
    head = (
        b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    last = b"2\r\n{}\r\n0\r\n"
    for trailers in (b"X-Pad: " + b"a" * (70 * KIB) + b"\r\n", b"X-Pad: a\r\n" * 8000):
        answer = server.raw(head + last + trailers + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
        detail = json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"]
        assert detail == f"The chunk line or trailers are larger than {DEFAULT_CAP} bytes"
    # Small trailers, and a body of many small chunks: the app reads the body as usual.
    assert server.raw(head + last + b"X-Pad: a\r\n\r\n").startswith(b"HTTP/1.1 422 ")
    body = b'{"username": "' + b"a" * (300 * KIB) + b'"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 64]), body[i : i + 64])
                      for i in range(0, len(body), 64))  # fmt: skip
    assert server.raw(head + chunks + b"0\r\n\r\n").startswith(b"HTTP/1.1 422 ")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_16_mib_header_is_never_held_whole(server: Server) -> None:
    warm = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * (70 * KIB) + b"\r\n\r\n"
    assert server.raw(warm).startswith(b"HTTP/1.1 431 ")
    before = server.peak_rss_kib()
    huge = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * (16 * MIB) + b"\r\n\r\n"
    server.raw(huge)
    assert httpx.get(f"{server.url}/health").is_success
    # Held whole, the header alone would raise the peak by 16 MiB (Uvicorn's own parser
    # buffering, without the cap, raised it by 32); refused at 64 KiB it stays put.
    grown = server.peak_rss_kib() - before
    assert grown < 8 * KIB, f"the server's peak memory grew by {grown} KiB"


def test_uvicorn_run_directly_gets_the_cap_with_http(tmp_path: Path) -> None:
    """The README's direct Uvicorn line: `--http blog_api.kit.server:HttpProtocol` caps the
    request head at MAX_REQUEST_HEADER_BYTES."""
    port = free_port()
    command = ["uvicorn", "blog_api.main:app", "--port", str(port), "--log-level", "warning"]
    command += [
        "--no-proxy-headers",
        "--no-server-header",
        "--http",
        "blog_api.kit.server:HttpProtocol",
    ]
    with _running(tmp_path, port, *command, MAX_REQUEST_HEADER_BYTES="8192") as direct:
        assert httpx.get(f"{direct.url}/health", headers={"X-Pad": "a" * (6 * KIB)}).is_success
        refused = httpx.get(f"{direct.url}/health", headers={"X-Pad": "a" * (10 * KIB)})
        _assert_431(refused, 8 * KIB)
