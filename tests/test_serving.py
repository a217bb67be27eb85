"""What `python -m blog_api serve` runs, over real sockets on 127.0.0.1: forwarded headers
believed only from the proxies FORWARDED_ALLOW_IPS names."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from blog_api.config import Settings
from blog_api.main import create_app
from blog_api.server import uvicorn_options
from tests.conftest import PASSWORD

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


def test_forwarded_allow_ips_setting() -> None:
    def parsed(value: str) -> list[str]:
        return Settings(_env_file=None, forwarded_allow_ips=value).forwarded_allow_ips

    assert Settings(_env_file=None).forwarded_allow_ips == []
    assert parsed("") == []
    # Host bits of a network are cleared: Uvicorn would take 10.0.0.1/8 for a name.
    assert parsed(" 10.0.0.1/8, 127.0.0.1 ,::1") == ["10.0.0.0/8", "127.0.0.1", "::1"]
    assert parsed("*") == ["*"]
    for wrong in ("proxy.internal", "10.0.0.300", "10.0.0.0/33"):
        with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS"):
            parsed(wrong)
    nothing = uvicorn_options(Settings(_env_file=None))
    assert nothing["proxy_headers"] is False
    named = uvicorn_options(Settings(_env_file=None, forwarded_allow_ips="10.0.0.5"))
    assert (named["proxy_headers"], named["forwarded_allow_ips"]) == (True, ["10.0.0.5"])
