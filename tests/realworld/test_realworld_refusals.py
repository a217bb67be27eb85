"""What is refused before any route of the RealWorld face runs is answered in its error shape
too: a body over the size limit, a database that cannot be reached, a method or path the face
does not serve, a bad Host, an unexpected error. The native API answers the same refusals as
problems (tests/platform/test_limits_and_headers.py, tests/platform/test_faults.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from blog_api.config import Settings
from blog_api.kit.problems import ErrorShapes, problem
from blog_api.main import create_app
from blog_api.realworld.errors import plain_error
from tests.helpers.realworld import register

MIB = 1024 * 1024
LOGIN = {"user": {"email": "someone@example.com", "password": "a password"}}


def realworld_errors(response: Response, status: int) -> dict[str, list[str]]:
    """The `errors` of a RealWorld error answer: GenericErrorModel, as JSON (not a problem)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errors"}, body
    errors: dict[str, list[str]] = body["errors"]
    assert errors
    for messages in errors.values():
        assert isinstance(messages, list)
        assert messages
        assert all(isinstance(message, str) for message in messages), errors
    return errors


def is_problem(response: Response, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["status"] == status
    )


async def test_a_body_over_the_limit_is_a_realworld_413(client: AsyncClient) -> None:
    user = await register(client, "heavy")
    big = {"article": {"title": "Big", "description": "d", "body": "x" * (MIB + 10)}}
    response = await client.post("/api/articles", json=big, headers=user["headers"])
    errors = realworld_errors(response, 413)
    assert errors == {"body": ["The request body is larger than 1048576 bytes"]}
    # Refused on its declared length alone, before authentication or JSON.
    realworld_errors(await client.put("/api/articles/any", content=b"{" * (2 * MIB)), 413)
    realworld_errors(await client.post("/api/users/login", content=b"a" * (2 * MIB)), 413)
    # The same refusal on the native face stays a problem.
    assert is_problem(await client.post("/api/v1/users", content=b"{" * (2 * MIB)), 413)
    listed = await client.get("/api/articles", params={"author": "heavy"})
    assert listed.json()["articlesCount"] == 0


async def test_a_chunked_body_streaming_past_the_limit_is_a_realworld_413(
    client: AsyncClient,
) -> None:
    user = await register(client, "streamer")
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"article": {"title": "Streamed", "description": "d", "body": "'
        for _ in range(100):  # 6.4 MiB, if it were all read
            sent += 1
            yield b"x" * 65536
        yield b'"}}'

    headers = {**user["headers"], "Content-Type": "application/json"}
    response = await client.post("/api/articles", content=chunks(), headers=headers)
    assert realworld_errors(response, 413) == {
        "body": ["The request body is larger than 1048576 bytes"]
    }
    assert sent <= 17, f"{sent} chunks were read: the body was not refused as it streamed in"
    listed = await client.get("/api/articles", params={"author": "streamer"})
    assert listed.json()["articlesCount"] == 0


async def test_an_unserved_path_or_method_is_answered_in_realworld_shape(
    client: AsyncClient,
) -> None:
    assert realworld_errors(await client.get("/api/nowhere"), 404) == {"resource": ["not found"]}
    assert realworld_errors(await client.get("/api"), 404) == {"resource": ["not found"]}
    refused = await client.post("/api/tags")
    assert realworld_errors(refused, 405) == {"method": ["Method Not Allowed"]}
    assert refused.headers["allow"] == "GET, HEAD"
    # A concrete path answered by the middleware, not the router (the slug "feed").
    feed = await client.put("/api/articles/feed", json={"article": {"title": "x"}})
    assert realworld_errors(feed, 405) == {"method": ["Method Not Allowed"]}
    assert feed.headers["allow"] == "GET, HEAD"
    # Native paths, and paths that only start like the face's, stay problems.
    assert is_problem(await client.get("/api/v1/nowhere"), 404)
    assert is_problem(await client.post("/api/v1/tags"), 405)
    assert is_problem(await client.get("/apix"), 404)


async def test_a_bad_host_on_the_face_is_a_realworld_400(client: AsyncClient) -> None:
    response = await client.get("/api/tags", headers={"Host": "bad host"})
    assert realworld_errors(response, 400) == {
        "request": ["Invalid Host header: a host name or address and an optional numeric port"]
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    assert is_problem(await client.get("/api/v1/tags", headers={"Host": "bad host"}), 400)


async def test_a_database_that_cannot_be_reached_is_a_realworld_503(
    settings: Settings, tmp_path: Path, is_sqlite: bool
) -> None:
    if is_sqlite:
        url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'blog.db'}"
    else:
        url = "postgresql+asyncpg://postgres@127.0.0.1:9/blog"
    application = create_app(settings.model_copy(update={"database_url": url}))
    try:
        transport = ASGITransport(app=application)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            for response in (
                await client.get("/api/tags"),
                await client.get("/api/articles"),
                await client.post("/api/users/login", json=LOGIN),
            ):
                errors = realworld_errors(response, 503)
                assert list(errors) == ["database"], errors
                assert int(response.headers["retry-after"]) >= 1
            assert is_problem(await client.get("/api/v1/tags"), 503)
    finally:
        await application.state.engine.dispose()


@pytest.fixture
async def boom_app(settings: Settings, migrated: str) -> AsyncIterator[FastAPI]:
    application = create_app(settings)

    @application.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("an internal detail")

    yield application
    await application.state.engine.dispose()


async def test_an_unexpected_error_on_the_face_is_a_generic_realworld_500(
    boom_app: FastAPI,
) -> None:
    transport = ASGITransport(app=boom_app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/boom")
    assert realworld_errors(response, 500) == {"server": ["An unexpected error occurred"]}
    assert "internal detail" not in response.text


def test_error_shapes_pick_the_longest_prefix_on_a_segment_boundary() -> None:
    shapes = ErrorShapes({"/api": plain_error, "/api/v1/": problem})
    assert shapes.for_path("/api") is plain_error
    assert shapes.for_path("/api/articles") is plain_error
    assert shapes.for_path("/api/v1") is problem
    assert shapes.for_path("/api/v1/posts") is problem
    assert shapes.for_path("/api/v10") is plain_error
    assert shapes.for_path("/apis") is problem
    assert shapes.for_path("/health") is problem
