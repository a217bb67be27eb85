"""A Redis outage behind the rate limits: the limits go on in each process's memory, Redis is
tried again after a back-off rather than on every request, and the log says so once as the
outage starts and once as it ends."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from blog_api.config import Settings
from blog_api.kit import ratelimit
from blog_api.main import create_app
from tests.helpers.clock import clear_of_a_window_edge
from tests.helpers.factories import PASSWORD
from tests.helpers.project import free_port

LIMITS = {
    "login_failures_per_account": 3,
    "login_attempts_per_address": 100,
    "registrations_per_address": 100,
    "password_changes_per_account": 2,
}


class RedisServer:
    """A redis-server of the test's own on a port of its own, started and stopped at will."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(
            [executable, *options, "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert self.process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH")
    server = RedisServer(free_port())
    yield server
    server.stop()


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "blog_api.kit.ratelimit"]


async def test_an_outage_counts_in_memory_backs_off_and_is_logged_once_each_way(
    settings: Settings,
    app: FastAPI,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "RETRY_FIRST", 2.0)
    monkeypatch.setattr(ratelimit, "RETRY_MOST", 2.0)
    # The test spans about 5 seconds of the account's 15-minute window.
    clear_of_a_window_edge(15 * 60, margin=20)
    caplog.set_level(logging.INFO, logger="blog_api.kit.ratelimit")
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    prefix = f"blog_api_test_{uuid.uuid4().hex}"
    application = create_app(
        settings.model_copy(update={**LIMITS, "redis_url": url, "rate_limit_prefix": prefix})
    )
    limiter: ratelimit.RateLimiter = application.state.rate_limiter
    tried = 0
    shared_hit = limiter._window.hit

    async def counting_hit(*args: Any) -> bool:
        nonlocal tried
        tried += 1
        return await shared_hit(*args)

    monkeypatch.setattr(limiter._window, "hit", counting_hit)
    transport = ASGITransport(app=application, client=("127.0.0.1", 12345))

    async def login(password: str) -> int:
        form = {"username": "outage", "password": password}
        return (await client.post("/api/v1/auth/token", data=form)).status_code

    try:
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            # Nothing listens on the port: the limits hold all the same, in memory.
            body = {"username": "outage", "email": "outage@example.com", "password": PASSWORD}
            assert (await client.post("/api/v1/users", json=body)).status_code == 201
            assert [await login("wrong guess") for _ in range(5)] == [401, 401, 401, 429, 429]
            assert await login(PASSWORD) == 429
            # Redis was tried once (the registration), then left alone while it backs off.
            assert tried == 1
            down = _records(caplog)
            assert len(down) == 1, [r.getMessage() for r in down]
            assert down[0].levelno == logging.WARNING
            assert down[0].exc_info is None
            assert "rate limit storage unavailable" in down[0].getMessage()
            assert "ConnectionError" in down[0].getMessage()
            assert "\n" not in down[0].getMessage()

            redis_server.start()
            await asyncio.sleep(2.1)  # past the back-off
            # The shared limits apply again (Redis's own counts), and the return is logged once.
            assert [await login("wrong guess") for _ in range(4)] == [401, 401, 401, 429]
            records = _records(caplog)
            assert len(records) == 2, [r.getMessage() for r in records]
            assert records[1].levelno == logging.WARNING
            assert "answers again" in records[1].getMessage()

            # A second outage is a second warning, once; this process's memory still holds
            # the account's failures of the first one.
            redis_server.stop()
            await asyncio.sleep(2.1)
            assert [await login("wrong guess") for _ in range(3)] == [429] * 3
            records = _records(caplog)
            assert len(records) == 3, [r.getMessage() for r in records]
            assert "rate limit storage unavailable" in records[2].getMessage()
            assert all(r.exc_info is None for r in records)
    finally:
        await application.state.engine.dispose()
