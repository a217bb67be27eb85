"""Request size limit, security headers, the Host allow-list, CORS refusals as problems, and
several workers without a configured secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr, ValidationError

from blog_api.config import Settings
from blog_api.main import create_app
from tests.helpers.factories import UserFactory
from tests.helpers.project import ROOT, free_port

MIB = 1024 * 1024


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


# --- Body size


async def test_a_body_over_the_limit_is_413_before_it_is_read(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("writer")
    big = {"title": "Big", "content": "x" * (MIB + 10)}
    response = await client.post("/api/v1/posts", json=big, headers=user["headers"])
    assert_problem(response, 413)
    # Unauthenticated, and not even JSON: refused on its declared length alone.
    assert_problem(await client.post("/api/v1/users", content=b"{" * (2 * MIB)), 413)
    login = await client.post("/api/v1/auth/token", content=b"a" * (2 * MIB))
    assert_problem(login, 413)
    # Just under the limit is parsed as usual (and refused for its content: 422).
    fits = {"title": "Fits", "content": "x" * (MIB - 100)}
    assert (
        await client.post("/api/v1/posts", json=fits, headers=user["headers"])
    ).status_code == 422


async def test_a_chunked_body_is_refused_as_it_streams_past_the_limit(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("streamer")
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"title": "Streamed", "content": "'
        for _ in range(100):  # 100 x 64 KiB = 6.4 MiB, if it were all read
            sent += 1
            yield b"x" * 65536
        yield b'"}'

    headers = {**user["headers"], "Content-Type": "application/json"}
    response = await client.post("/api/v1/posts", content=chunks(), headers=headers)
    assert_problem(response, 413)
    assert sent <= 17, f"{sent} chunks were read: the body was not refused as it streamed in"


async def test_the_body_limit_is_a_setting(settings: Settings, app: FastAPI) -> None:
    small = create_app(settings.model_copy(update={"max_request_body_bytes": 2048}))
    try:
        async with AsyncClient(transport=ASGITransport(app=small), base_url="http://t") as c:
            body = {"email": "a@example.com", "username": "abc", "password": "x" * 3000}
            assert_problem(await c.post("/api/v1/users", json=body), 413)
    finally:
        await small.state.engine.dispose()


# --- Headers


async def test_nosniff_everywhere_and_no_store_on_private_answers(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user = await make_user("private")
    public = [
        await client.get("/api/v1/posts"),
        await client.get("/api/v1/posts/123456"),
        await client.get("/health"),
        await client.get("/api/v1/posts", params={"per_page": 0}),
    ]
    for response in public:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "no-store" not in response.headers.get("cache-control", "")
    private = [
        await client.get("/api/v1/users/me", headers=user["headers"]),
        await client.get("/api/v1/users/me/posts", headers=user["headers"]),
        await client.patch("/api/v1/users/me", json={"bio": "b"}, headers=user["headers"]),
        await client.get("/api/v1/users/me"),  # 401
        await client.post("/api/v1/auth/token", data={"username": "x", "password": "y"}),
    ]
    for response in private:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


@pytest.fixture
async def host_checked(settings: Settings, app: FastAPI) -> AsyncIterator[AsyncClient]:
    checked = create_app(
        settings.model_copy(update={"allowed_hosts": ["api.example.com", "*.example.org"]})
    )
    async with AsyncClient(
        transport=ASGITransport(app=checked), base_url="http://api.example.com"
    ) as client:
        yield client
    await checked.state.engine.dispose()


async def test_only_allowed_hosts_are_served(host_checked: AsyncClient) -> None:
    assert (await host_checked.get("/api/v1/posts")).status_code == 200
    for host in ("API.example.com:8443", "blog.example.org"):
        assert (await host_checked.get("/health", headers={"Host": host})).status_code == 200
    for host in ("evil.example.net", "example.org", "api.example.com.evil.net", ""):
        refused = await host_checked.get("/health", headers={"Host": host})
        assert_problem(refused, 400)
    # A redirect (trailing slash) never points at a forged host.
    forged = await host_checked.get("/api/v1/posts/", headers={"Host": "evil.example.net"})
    assert_problem(forged, 400)
    assert "location" not in forged.headers


def test_production_needs_allowed_hosts() -> None:
    secret = SecretStr("s" * 48)
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        Settings(_env_file=None, environment="production", secret_key=secret)
    named = Settings(
        _env_file=None, environment="production", secret_key=secret, allowed_hosts="a.io, b.io"
    )
    assert named.allowed_hosts == ["a.io", "b.io"]
    assert _development().allowed_hosts == ["*"]


async def test_a_refused_cors_preflight_is_a_problem(client: AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    foreign = await client.options(
        "/api/v1/posts", headers={**preflight, "Origin": "https://evil.example.net"}
    )
    assert_problem(foreign, 400)
    assert foreign.headers["x-content-type-options"] == "nosniff"
    allowed = await client.options(
        "/api/v1/posts", headers={**preflight, "Origin": "http://localhost:5173"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"


# --- Workers and the secret


def _development(**values: Any) -> Settings:
    """Settings of a development process, whatever ENVIRONMENT the shell running the tests says."""
    return Settings(_env_file=None, environment="development", **values)


def test_several_workers_need_a_configured_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set to run WORKERS=2"):
        _development(workers=2)
    assert _development(workers=2, secret_key=SecretStr("k" * 48)).workers == 2
    assert _development().secret_generated
    assert not _development(secret_key=SecretStr("k" * 48)).secret_generated


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    variables = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "WORKERS"}}
    return subprocess.Popen(
        [sys.executable, "-m", "blog_api", "serve", *args],
        cwd=tmp_path,  # no .env here
        env={
            **variables,
            "ENVIRONMENT": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "PYTHONPATH": str(ROOT / "src"),
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_refuses_several_workers_without_a_secret(tmp_path: Path) -> None:
    process = _serve(tmp_path, "--workers", "2", PORT=str(free_port()))
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 2
    assert "SECRET_KEY" in stderr
    assert "secrets.token_urlsafe" in stderr


def test_the_served_app_has_no_server_banner(tmp_path: Path) -> None:
    port = free_port()
    process = _serve(tmp_path, PORT=str(port))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert response.status_code == 200
    assert "server" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert json.loads(response.text) == {"status": "ok"}
