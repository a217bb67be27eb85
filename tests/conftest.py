"""Test harness: one database URL decides the backend (SQLite by default, PostgreSQL when
TEST_DATABASE_URL says so). The schema comes from the migrations, once per run; every test
talks to the real app over httpx and its rows are removed afterwards, so tests that race
requests see real commits like the others."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from blog_api.config import Settings, normalize_database_url
from blog_api.kit.db import Access, Base, transaction
from blog_api.main import create_app
from blog_api.models import User
from blog_api.roles import Role
from blog_api.users.repository import UserRepository
from blog_api.users.schemas import UserCreate
from blog_api.users.service import UserService
from tests.helpers.databases import drop_postgres_database, recreate_postgres_database
from tests.helpers.factories import PASSWORD, PostFactory, RoleSetter, UserFactory, auth_headers
from tests.helpers.project import run_alembic
from tests.helpers.statements import recorded_statements


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalize_database_url(url)
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'blog_api_test.db'}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        bcrypt_rounds=4,
        counter_fold_seconds=0,  # tests fold when they mean to
        gc_tuning=False,  # tests/platform/test_gc_tuning.py turns it on where it checks it
        secret_key=SecretStr("test-secret-key-that-is-long-enough-for-hs256"),
        # Every test client calls from one address, many times: tests/platform/test_rate_limits.py
        # checks the limits with an app of its own.
        login_attempts_per_address=0,
        registrations_per_address=0,
        login_failures_per_account=0,
        password_changes_per_account=0,
    )


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> AsyncIterator[str]:
    """The test database, made by the migrations; on PostgreSQL created for the run and dropped
    after it (the SQLite file lives in pytest's temporary directory)."""
    postgres = database_url.startswith("postgresql")
    if postgres:
        await recreate_postgres_database(database_url)
    result = run_alembic(database_url, "upgrade", "head")
    assert result.returncode == 0, result.stderr
    yield database_url
    if postgres:
        await drop_postgres_database(database_url)


@pytest.fixture(scope="session")
async def app(settings: Settings, migrated: str) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture(scope="session")
def engine(app: FastAPI) -> AsyncEngine:
    engine: AsyncEngine = app.state.engine
    return engine


@pytest.fixture
def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    # Emptied last: deleting the other rows appends counter changes.
    counters = "counter_deltas"
    yield
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != counters:
                await conn.execute(delete(table))
        await conn.execute(delete(Base.metadata.tables[counters]))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture
def make_user(client: AsyncClient) -> UserFactory:
    """Register a user over HTTP; return its JSON plus `headers` carrying a bearer token."""
    counter = 0

    async def factory(
        username: str | None = None,
        email: str | None = None,
        password: str = PASSWORD,
        **extra: Any,
    ) -> dict[str, Any]:
        nonlocal counter
        counter += 1
        username = username or f"user{counter}"
        email = email or f"{username}@example.com"
        body = {"username": username, "email": email, "password": password, **extra}
        response = await client.post("/api/v1/users", json=body)
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        user["headers"] = await auth_headers(client, username, password)
        return user

    return factory


@pytest.fixture
async def superuser(app: FastAPI, client: AsyncClient) -> dict[str, Any]:
    """A superuser, created the way `make superuser` does it (there is no HTTP route for it)."""
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        service = UserService(UserRepository(session), app.state.hasher)
        user = await service.register(
            UserCreate(email="root@example.com", username="root", password=PASSWORD),
            role=Role.ADMIN,
        )
    return {"id": user.id, "headers": await auth_headers(client, "root")}


@pytest.fixture
def set_role(app: FastAPI) -> RoleSetter:
    """Give a user a role straight in the database (an admin's PATCH /users/{id}, the API's
    way, is tested on its own in tests/users/test_roles.py)."""

    async def setter(user_id: int, role: Role) -> None:
        async with transaction(app.state.session_factory, Access.WRITE) as session:
            await session.execute(update(User).where(User.id == user_id).values(role=role))

    return setter


@pytest.fixture
def make_post(client: AsyncClient) -> PostFactory:
    """Create a post over HTTP as the user whose `headers` are given; return its JSON."""

    async def factory(
        headers: dict[str, str],
        title: str = "A post",
        content: str = "Some content.",
        published: bool = True,
        tags: list[str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "title": title,
            "content": content,
            "published": published,
            "tags": tags or [],
            **extra,
        }
        response = await client.post("/api/v1/posts", json=body, headers=headers)
        assert response.status_code == 201, response.text
        post: dict[str, Any] = response.json()
        return post

    return factory


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements the app sends while the test runs (transaction control left out)."""
    with recorded_statements(engine) as seen:
        yield seen
