"""Health, problem responses, request ids, CORS and the OpenAPI document."""

from __future__ import annotations

import logging

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from blog_api.config import Settings
from blog_api.kit.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceBusyError,
)
from blog_api.main import create_app

PROBLEM = "application/problem+json"


async def test_health_answers_without_database(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_the_database(client: AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_ready_is_503_problem_when_database_is_down(tmp_path: object) -> None:
    settings = Settings(
        _env_file=None,
        environment="test",
        database_url="postgresql://postgres@127.0.0.1:1/nowhere",
    )
    app = create_app(settings)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/health/ready")
        assert (await client.get("/health")).status_code == 200
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 503


async def test_unknown_route_is_404_problem(client: AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }


async def test_wrong_method_is_405_problem(client: AsyncClient) -> None:
    response = await client.put("/api/v1/users")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.json()["title"] == "Method Not Allowed"


async def test_validation_error_lists_errors_without_echoing_input(client: AsyncClient) -> None:
    secret = "short"
    response = await client.post(
        "/api/v1/users", json={"email": "not-an-email", "username": "ok_name", "password": secret}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["title"] == "Unprocessable Content" or body["title"] == "Unprocessable Entity"
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "email") in locs
    assert ("body", "password") in locs
    assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])
    assert secret not in response.text


async def test_malformed_json_is_422_problem(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


@pytest.fixture
async def boom_client(settings: Settings, migrated: str) -> AsyncClient:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM users -- internal detail")

    return AsyncClient(transport=ASGITransport(app=app), base_url="http://t")


async def test_unknown_error_is_generic_500_and_logged_with_request_id(
    boom_client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="blog_api"):
        response = await boom_client.get("/boom", headers={"X-Request-ID": "req-500.test"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["x-request-id"] == "req-500.test"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "An unexpected error occurred",
    }
    assert "SELECT" not in response.text
    assert any("req-500.test" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("abc-DEF_123.x", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("has space", False),
        ("", False),
        ("semi;colon", False),
    ],
)
async def test_request_id_is_echoed_only_when_well_formed(
    client: AsyncClient, incoming: str, kept: bool
) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming})
    rid = response.headers["x-request-id"]
    if kept:
        assert rid == incoming
    else:
        assert rid != incoming
        assert 1 <= len(rid) <= 128


async def test_request_id_on_errors_and_new_ones_differ(client: AsyncClient) -> None:
    first = await client.get("/api/v1/nothing")
    second = await client.get("/api/v1/nothing")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_new_request_ids_are_32_hex_digits_and_never_repeat(client: AsyncClient) -> None:
    ids = [(await client.get("/health")).headers["x-request-id"] for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(rid) == 32 and all(c in "0123456789abcdef" for c in rid) for rid in ids)


async def test_cors_allows_the_configured_spa_origin(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/users",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    denied = await client.options(
        "/api/v1/users",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in denied.headers


def test_production_refuses_a_weak_or_missing_secret() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(
            _env_file=None,
            environment="production",
            secret_key=SecretStr("short"),
        )
    ok = Settings(
        _env_file=None,
        environment="production",
        secret_key=SecretStr("x" * 48),
        allowed_hosts=["api.example.com"],
    )
    assert ok.jwt_secret == "x" * 48


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./blog.db", "sqlite+aiosqlite:///./blog.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_map_to_async_drivers(given: str, expected: str) -> None:
    settings = Settings(_env_file=None, environment="test", database_url=given)
    assert settings.database_url == expected


def test_unsupported_database_url_is_refused() -> None:
    with pytest.raises(ValueError, match="Unsupported"):
        Settings(_env_file=None, environment="test", database_url="mysql://u@h/db")


class _NewKindOfError(DomainError):
    """A domain error added later, with no status of its own."""


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("gone"), 404),
        (ConflictError("taken"), 409),
        (PermissionDeniedError("no"), 403),
        (AuthenticationError("who?"), 401),
        (InvalidInputError("bad", loc=("body", "x")), 422),
        (RateLimitedError("slow down", retry_after=3), 429),
        (ServiceBusyError("busy"), 503),
        (_NewKindOfError("odd"), 400),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
async def test_every_domain_error_is_a_problem_with_its_own_status(
    settings: Settings, error: DomainError, status: int
) -> None:
    """Each error class says its status, so one added later is never a 500 for want of a
    mapping."""
    app = create_app(settings)

    @app.get("/raises")
    async def raises() -> None:
        raise error

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/raises")
    await app.state.engine.dispose()
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].endswith(error.detail)
