"""Test harness: one database URL decides the backend (SQLite by default, PostgreSQL when
TEST_DATABASE_URL says so). The schema comes from the migrations, once per run; every test
talks to the real app over httpx and its rows are removed afterwards, so tests that race
requests see real commits like the others."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import Select, delete, event, func, literal, make_url, select
from sqlalchemy.ext.asyncio import AsyncEngine

from blog_api.config import Settings, normalize_database_url
from blog_api.kit.db import Access, Base, transaction
from blog_api.main import create_app
from blog_api.models import Comment, Counter, CounterDelta, Favorite, Follow, Post, post_tags
from blog_api.users.repository import UserRepository
from blog_api.users.schemas import UserCreate
from blog_api.users.service import UserService

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
# Emptied last: deleting the other rows appends counter changes.
COUNTERS_TABLE = "counter_deltas"

UserFactory = Callable[..., Awaitable[dict[str, Any]]]


def run_alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the alembic command line the way a deployer does, against `url`."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={url}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


async def _on_postgres_server(url: str, *statements: str) -> None:
    """Run `statements` (with `{db}` standing for the database `url` names) on its server."""
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(server)
    try:
        for statement in statements:
            await conn.execute(statement.format(db=f'"{target.database}"'))
    finally:
        await conn.close()


async def recreate_postgres_database(url: str) -> None:
    """Drop and create the database `url` names, on the server it names."""
    await _on_postgres_server(
        url, "DROP DATABASE IF EXISTS {db} WITH (FORCE)", "CREATE DATABASE {db}"
    )


async def drop_postgres_database(url: str) -> None:
    """Drop the database `url` names: a test run leaves no database behind."""
    await _on_postgres_server(url, "DROP DATABASE IF EXISTS {db} WITH (FORCE)")


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
        gc_tuning=False,  # tests/test_gc_tuning.py turns it on where it checks it
        secret_key=SecretStr("test-secret-key-that-is-long-enough-for-hs256"),
        # Every test client calls from one address, many times: tests/test_rate_limits.py
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
    yield
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != COUNTERS_TABLE:
                await conn.execute(delete(table))
        await conn.execute(delete(Base.metadata.tables[COUNTERS_TABLE]))


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


async def auth_headers(client: AsyncClient, login: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": login, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def superuser(app: FastAPI, client: AsyncClient) -> dict[str, Any]:
    """A superuser, created the way `make superuser` does it (there is no HTTP route for it)."""
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        service = UserService(UserRepository(session), app.state.hasher)
        user = await service.register(
            UserCreate(email="root@example.com", username="root", password=PASSWORD),
            is_superuser=True,
        )
    return {"id": user.id, "headers": await auth_headers(client, "root")}


PostFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def make_post(client: AsyncClient) -> PostFactory:
    """Create a post over HTTP as the user whose `headers` are given; return its JSON."""

    async def factory(
        headers: dict[str, str],
        title: str = "A post",
        content: str = "Some content.",
        published: bool = True,
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        body = {"title": title, "content": content, "published": published, "tags": tags or []}
        response = await client.post("/api/v1/posts", json=body, headers=headers)
        assert response.status_code == 201, response.text
        post: dict[str, Any] = response.json()
        return post

    return factory


CountMap = dict[tuple[str, int], int]


async def ledger_counts(app: FastAPI) -> CountMap:
    """Every counter's value as the application reads it: the sum of its rows, 0s left out."""
    total = func.sum(CounterDelta.delta)
    stmt = (
        select(CounterDelta.name, CounterDelta.key, total)
        .group_by(CounterDelta.name, CounterDelta.key)
        .having(total != 0)
    )
    async with app.state.session_factory() as session:
        return {(name, key): int(value) for name, key, value in (await session.execute(stmt))}


def _true_count_queries() -> dict[Counter, Select[*tuple[Any, ...]]]:
    published = Post.published.is_(True)
    return {
        Counter.PUBLISHED_POSTS: select(literal(0), func.count()).where(published),
        Counter.USER_POSTS: select(Post.author_id, func.count())
        .where(published)
        .group_by(Post.author_id),
        Counter.TAG_POSTS: select(post_tags.c.tag_id, func.count())
        .join(Post, Post.id == post_tags.c.post_id)
        .where(published)
        .group_by(post_tags.c.tag_id),
        Counter.POST_FAVORITES: select(Favorite.post_id, func.count()).group_by(Favorite.post_id),
        Counter.POST_COMMENTS: select(Comment.post_id, func.count()).group_by(Comment.post_id),
        Counter.USER_FOLLOWERS: select(Follow.followed_id, func.count()).group_by(
            Follow.followed_id
        ),
        Counter.USER_FOLLOWING: select(Follow.follower_id, func.count()).group_by(
            Follow.follower_id
        ),
    }


async def true_counts(app: FastAPI) -> CountMap:
    """Every counter's value counted from the rows themselves, 0s left out."""
    counts: CountMap = {}
    async with app.state.session_factory() as session:
        for name, stmt in _true_count_queries().items():
            for key, value in await session.execute(stmt):
                if value:
                    counts[name.value, int(key)] = int(value)
    return counts


async def assert_counts_exact(app: FastAPI) -> CountMap:
    """Every counter equals the count of the rows it counts; returns the counts."""
    expected = await true_counts(app)
    assert await ledger_counts(app) == expected
    return expected


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements the app sends while the test runs (transaction control left out)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)
