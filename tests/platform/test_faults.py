"""Database faults: a lost connection, a database that refuses connections or cannot be
written to. Each is a 503 problem with Retry-After, never a 500; reads need no write
access; a read whose pooled connection died is run again on a fresh one."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from blog_api.config import Settings
from blog_api.kit import sqlite_driver
from blog_api.kit.db import Access, transaction
from blog_api.kit.errors import NotFoundError
from blog_api.main import create_app
from blog_api.models import Tag
from tests.helpers.factories import PASSWORD, PostFactory, UserFactory, auth_headers
from tests.helpers.project import run_alembic

NEW_USER = {"username": "newcomer", "email": "newcomer@example.com", "password": PASSWORD}


def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 503
    assert int(response.headers["retry-after"]) >= 1


async def admin_connection(database_url: str) -> asyncpg.Connection:
    target = make_url(database_url)
    server = target.set(drivername="postgresql", database="postgres")
    return await asyncpg.connect(server.render_as_string(hide_password=False))


async def terminate_backends(database_url: str) -> int:
    """pg_terminate_backend on every connection to the test database (the app's pool)."""
    admin = await admin_connection(database_url)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            make_url(database_url).database,
        )
    finally:
        await admin.close()
    return int(killed)


@pytest.fixture
async def fresh_pool_afterwards(app: FastAPI) -> AsyncIterator[None]:
    """The tests after these get a pool without the connections terminated here."""
    yield
    await app.state.engine.dispose()


async def client_of(application: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=application), base_url="http://test")


@pytest.mark.usefixtures("fresh_pool_afterwards")
async def test_a_read_on_a_dead_pooled_connection_is_retried_on_a_fresh_one(
    client: AsyncClient, make_user: UserFactory, database_url: str, is_sqlite: bool
) -> None:
    if is_sqlite:
        pytest.skip("an embedded SQLite database has no connection to lose")
    user = await make_user("reader")
    assert (await client.get("/api/v1/posts")).status_code == 200  # the pool holds connections
    assert await terminate_backends(database_url) >= 1
    listed = await client.get("/api/v1/posts")
    assert listed.status_code == 200, listed.text
    # The optional-auth read of a token user and the request's own session, both retried.
    assert await terminate_backends(database_url) >= 1
    me = await client.get("/api/v1/users/me", headers=user["headers"])
    assert me.status_code == 200, me.text


@pytest.mark.usefixtures("fresh_pool_afterwards")
async def test_a_write_on_a_lost_connection_is_a_503_and_the_next_one_works(
    client: AsyncClient, database_url: str, is_sqlite: bool
) -> None:
    if is_sqlite:
        pytest.skip("an embedded SQLite database has no connection to lose")
    assert (await client.get("/api/v1/posts")).status_code == 200
    assert await terminate_backends(database_url) >= 1
    lost = await client.post("/api/v1/users", json=NEW_USER)
    assert_unavailable(lost)
    again = await client.post("/api/v1/users", json=NEW_USER)
    assert again.status_code == 201, again.text


async def test_a_database_that_cannot_be_reached_is_a_503(
    settings: Settings, tmp_path: Path, is_sqlite: bool
) -> None:
    if is_sqlite:  # a file that cannot be opened: its directory is gone
        url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'blog.db'}"
    else:  # nothing listens on port 9: connections are refused
        url = "postgresql+asyncpg://postgres@127.0.0.1:9/blog"
    application = create_app(settings.model_copy(update={"database_url": url}))
    try:
        async with await client_of(application) as client:
            assert_unavailable(await client.get("/api/v1/posts"))
            assert_unavailable(await client.get("/api/v1/tags"))
            assert_unavailable(await client.post("/api/v1/users", json=NEW_USER))
            login = {"username": "someone", "password": PASSWORD}
            assert_unavailable(await client.post("/api/v1/auth/token", data=login))
            assert_unavailable(await client.get("/health/ready"))
            assert (await client.get("/health")).status_code == 200
    finally:
        await application.state.engine.dispose()


@pytest.fixture
async def read_only_app(
    settings: Settings, database_url: str, tmp_path: Path, is_sqlite: bool, app: FastAPI
) -> AsyncIterator[tuple[FastAPI, dict[str, Any]]]:
    """An app on a database it may read but not write, holding one user and one post.

    SQLite: a migrated file, in rollback-journal mode (as a restored backup may be), made
    read-only with chmod; root ignores file modes, so as root the file is also opened
    read-only (`mode=ro`), which is what SQLite does by itself for anybody else.
    PostgreSQL: the test database with default_transaction_read_only (a hot standby)."""
    if is_sqlite:
        path = tmp_path / "read-only.db"
        result = run_alembic(f"sqlite+aiosqlite:///{path}", "upgrade", "head")
        assert result.returncode == 0, result.stderr
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = database_url
    application = create_app(settings.model_copy(update={"database_url": url}))
    async with await client_of(application) as client:
        created = await client.post("/api/v1/users", json=NEW_USER)
        assert created.status_code == 201, created.text
        headers = await auth_headers(client, "newcomer")
        post = {"title": "Kept", "content": "Still readable.", "published": True}
        assert (await client.post("/api/v1/posts", json=post, headers=headers)).status_code == 201
    await application.state.engine.dispose()

    admin = None
    if is_sqlite:
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        if os.geteuid() == 0:
            url = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    else:
        admin = await admin_connection(database_url)
        name = make_url(database_url).database
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    application = create_app(settings.model_copy(update={"database_url": url}))
    try:
        yield application, headers
    finally:
        await application.state.engine.dispose()
        if admin is not None:
            await admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            await admin.close()
            await app.state.engine.dispose()  # the other tests' pool: read-write connections


async def test_a_read_only_database_serves_reads_and_answers_writes_with_503(
    read_only_app: tuple[FastAPI, dict[str, Any]],
) -> None:
    application, headers = read_only_app
    async with await client_of(application) as client:
        posts = await client.get("/api/v1/posts")
        assert posts.status_code == 200, posts.text
        assert [p["title"] for p in posts.json()["items"]] == ["Kept"]
        assert (await client.get("/api/v1/tags")).status_code == 200
        assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
        assert (await client.get("/health/ready")).status_code == 200

        assert_unavailable(
            await client.post(
                "/api/v1/users", json={**NEW_USER, "username": "another", "email": "a@example.com"}
            )
        )
        post = {"title": "New", "content": "Cannot be stored."}
        assert_unavailable(await client.post("/api/v1/posts", json=post, headers=headers))
        assert_unavailable(
            await client.patch("/api/v1/users/me", json={"bio": "hi"}, headers=headers)
        )
        login = {"username": "newcomer", "password": PASSWORD}
        assert_unavailable(await client.post("/api/v1/auth/token", data=login))


# --- A SQLite database in a folder the server may not write

# Run in a process of its own that may not write the database's folder (see run_reader): the
# app on the database `argv[1]` (with the secret `argv[2]`), a few requests with the token
# `argv[3]`; prints their answers and whether this process may write that folder.
_READER = """
import asyncio, json, os, sys
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from blog_api.config import Settings
from blog_api.main import create_app

async def main(path, secret, token):
    settings = Settings(
        _env_file=None, environment="test", database_url=f"sqlite:///{path}",
        secret_key=SecretStr(secret), bcrypt_rounds=4, counter_fold_seconds=0, gc_tuning=False,
    )
    app = create_app(settings)
    bearer = {"Authorization": f"Bearer {token}"}
    new_user = {"username": "another", "email": "another@example.com", "password": "a password"}
    new_post = {"title": "New", "content": "Cannot be stored."}
    seen = {"may_write_folder": os.access(os.path.dirname(path), os.W_OK)}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        for name, method, url, kwargs in [
            ("posts", "GET", "/api/v1/posts", {}),
            ("ready", "GET", "/health/ready", {}),
            ("me", "GET", "/api/v1/users/me", {"headers": bearer}),
            ("register", "POST", "/api/v1/users", {"json": new_user}),
            ("post", "POST", "/api/v1/posts", {"json": new_post, "headers": bearer}),
        ]:
            response = await client.request(method, url, **kwargs)
            seen[name] = [response.status_code, response.json()]
    await app.state.engine.dispose()
    print(json.dumps(seen))

asyncio.run(main(*sys.argv[1:]))
"""


def run_reader(*args: str, mount_read_only: Path | None = None) -> dict[str, Any]:
    """Run `_READER` with `args` as a process that may not write the database's folder: this
    user, if file modes stop it; for root (whom they do not stop), root without any capability
    (setpriv), or, with `mount_read_only`, root in a mount namespace of its own where that
    folder is a read-only bind mount (as on read-only media)."""
    command = [sys.executable, "-c", _READER, *args]
    if mount_read_only is not None:
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            pytest.skip("a read-only mount needs root and unshare")
        remount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
        command = ["unshare", "--mount", "sh", "-c", remount, str(mount_read_only), *command]
    elif os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, and setpriv is missing to run without root's powers")
        command = [setpriv, "--bounding-set=-all", "--inh-caps=-all", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if mount_read_only is not None and done.returncode and "Traceback" not in done.stderr:
        pytest.skip(f"no read-only bind mount here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen.pop("may_write_folder") is False, "the folder must be read-only for the reader"
    return seen


@pytest.fixture
async def wal_database(
    settings: Settings, tmp_path: Path, is_sqlite: bool
) -> AsyncIterator[tuple[Path, str]]:
    """A migrated SQLite database in WAL mode holding one user and one post, closed (no
    `-shm` or `-wal` left), in a folder of its own; and the user's access token. The folder
    is made writable again afterwards."""
    if not is_sqlite:
        pytest.skip("a SQLite file")
    folder = tmp_path / "read-only"
    folder.mkdir()
    path = folder / "blog.db"
    url = f"sqlite+aiosqlite:///{path}"
    result = run_alembic(url, "upgrade", "head")
    assert result.returncode == 0, result.stderr
    application = create_app(settings.model_copy(update={"database_url": url}))
    async with await client_of(application) as client:
        assert (await client.post("/api/v1/users", json=NEW_USER)).status_code == 201
        headers = await auth_headers(client, "newcomer")
        post = {"title": "Kept", "content": "Still readable.", "published": True}
        assert (await client.post("/api/v1/posts", json=post, headers=headers)).status_code == 201
    await application.state.engine.dispose()
    assert sorted(p.name for p in folder.iterdir()) == ["blog.db"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    try:
        yield path, headers["Authorization"].removeprefix("Bearer ")
    finally:
        folder.chmod(0o755)


def secret_of(settings: Settings) -> str:
    assert settings.secret_key is not None
    return settings.secret_key.get_secret_value()


def make_read_only(*paths: Path) -> None:
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)


def assert_reads_serve_and_writes_are_503(seen: dict[str, Any], title: str) -> None:
    assert seen["posts"][0] == 200, seen
    assert [p["title"] for p in seen["posts"][1]["items"]] == [title]
    assert seen["ready"] == [200, {"status": "ok", "database": "ok"}]
    assert seen["me"][0] == 200, seen
    assert seen["me"][1]["username"] == "newcomer"
    for write in ("register", "post"):
        status, body = seen[write]
        assert status == 503, seen
        assert "cannot be written to" in body["detail"]


@pytest.mark.parametrize("read_only_by", ["file modes", "a read-only mount"])
async def test_a_wal_database_in_a_read_only_folder_serves_reads(
    settings: Settings, wal_database: tuple[Path, str], read_only_by: str
) -> None:
    """SQLite cannot make the `-shm` file a WAL reader needs in a folder it may not write, and
    refused every read ("cannot be written to" on GET /posts and /health/ready). Opened
    immutable, the database serves reads; writes are a 503; the folder is left as it was."""
    path, token = wal_database
    mount = None
    if read_only_by == "file modes":
        make_read_only(path, path.parent)
    else:
        mount = path.parent
    before = path.read_bytes()
    seen = run_reader(str(path), secret_of(settings), token, mount_read_only=mount)
    assert_reads_serve_and_writes_are_503(seen, "Kept")
    assert sorted(p.name for p in path.parent.iterdir()) == ["blog.db"]
    assert path.read_bytes() == before


async def test_a_read_only_folder_with_a_live_writer_is_read_through_its_wal(
    settings: Settings, wal_database: tuple[Path, str]
) -> None:
    """While a process that may write has the database open, its `-shm` and `-wal` are there
    and hold changes the file does not have yet: the reader sees them (the file alone, opened
    immutable, would answer the old title)."""
    path, token = wal_database
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")  # the change stays in the -wal
        writer.execute("UPDATE posts SET title = 'Changed'")
        writer.commit()
        shm, wal = path.with_name("blog.db-shm"), path.with_name("blog.db-wal")
        assert shm.exists()
        assert wal.stat().st_size > 0
        make_read_only(path, shm, wal, path.parent)
        seen = run_reader(str(path), secret_of(settings), token)
    finally:
        writer.close()
    assert_reads_serve_and_writes_are_503(seen, "Changed")


# --- A write that fails (403, 404, 409) and loses its connection before its ROLLBACK


async def wait_until_gone(admin: asyncpg.Connection, pid: int) -> None:
    """Until backend `pid` has exited (pg_terminate_backend only signals it)."""
    for _ in range(500):
        if not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} is still there")


@pytest.mark.usefixtures("fresh_pool_afterwards")
async def test_a_domain_error_on_a_terminated_backend_is_raised_as_it_is(
    app: FastAPI, database_url: str, is_sqlite: bool
) -> None:
    """The unit's backend is terminated after it wrote, then the unit fails for a reason of
    its own: its ROLLBACK cannot reach the server, which has ended the transaction itself.
    The unit raises the domain error (a 404 for the client), nothing is stored, and the next
    unit runs on a fresh connection."""
    if is_sqlite:
        pytest.skip("an embedded SQLite database has no backend to terminate")
    factory = app.state.session_factory
    admin = await admin_connection(database_url)

    async def write_then_fail() -> None:
        async with transaction(factory, Access.WRITE) as session:
            session.add(Tag(name="never-stored"))
            await session.flush()
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            await wait_until_gone(admin, pid)
            raise NotFoundError("Post 1 not found")

    try:
        with pytest.raises(NotFoundError, match="Post 1 not found"):
            await write_then_fail()
    finally:
        await admin.close()
    async with transaction(factory, Access.WRITE) as session:
        assert await session.scalar(select(func.count()).select_from(Tag)) == 0
        assert await session.scalar(text("SELECT 1")) == 1


@pytest.fixture
def rollback_fails(
    engine: AsyncEngine, is_sqlite: bool, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """Append to the list, and the next ROLLBACK of a transaction fails the way it does when
    the database goes away under it: PostgreSQL's connection is closed just before (asyncpg
    then refuses the ROLLBACK, and the server ends the transaction itself); SQLite answers
    "disk I/O error" without rolling back (the pool's reset rolls back afterwards)."""
    armed: list[int] = []
    if is_sqlite:
        connection_class: Any = sqlite_driver.OneTripConnection
    else:
        from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

        connection_class = AsyncAdapt_asyncpg_connection
    original = connection_class.rollback

    def rollback(self: Any) -> None:
        in_transaction = self._in_transaction() if is_sqlite else self._transaction is not None
        if armed and in_transaction:
            armed.pop()
            if is_sqlite:
                raise sqlite3.OperationalError("disk I/O error")
            self._connection.terminate()
        original(self)

    monkeypatch.setattr(connection_class, "rollback", rollback)
    return armed


@pytest.mark.usefixtures("fresh_pool_afterwards")
async def test_a_failed_write_whose_rollback_fails_keeps_its_answer(
    client: AsyncClient, make_user: UserFactory, make_post: PostFactory, rollback_fails: list[int]
) -> None:
    """403, 404 and 409 are what the client gets, not a 500: nothing was written, whatever
    became of the ROLLBACK."""
    ann = await make_user("ann_rollback")
    bob = await make_user("bob_rollback")
    post = await make_post(ann["headers"], title="Ann's")

    rollback_fails.append(1)
    edit = await client.patch(
        f"/api/v1/posts/{post['id']}", json={"title": "Bob's now"}, headers=bob["headers"]
    )
    assert edit.status_code == 403, edit.text
    assert rollback_fails == [], "the ROLLBACK failed"

    rollback_fails.append(1)
    missing = await client.put("/api/v1/posts/2000000000/favorite", headers=bob["headers"])
    assert missing.status_code == 404, missing.text
    assert rollback_fails == []

    rollback_fails.append(1)
    taken = {"username": "ann_rollback", "email": "other@example.com", "password": PASSWORD}
    conflict = await client.post("/api/v1/users", json=taken)
    assert conflict.status_code == 409, conflict.text
    assert rollback_fails == []

    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["title"] == "Ann's"
    assert (await client.get("/api/v1/users")).json()["total"] == 2
    # The connection the failure left behind is dropped or rolled back: writes go on.
    liked = await client.put(f"/api/v1/posts/{post['id']}/favorite", headers=bob["headers"])
    assert liked.status_code == 200, liked.text


@pytest.mark.usefixtures("fresh_pool_afterwards")
async def test_failed_writes_racing_terminated_backends_are_never_a_500(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    database_url: str,
    is_sqlite: bool,
) -> None:
    """16 clients send writes that fail (a favorite of a missing post: 404; an edit of
    another user's post: 403) while every backend of the database is terminated over and
    over: each answer is that 403 or 404, or a 503, never a 500."""
    if is_sqlite:
        pytest.skip("an embedded SQLite database has no backend to terminate")
    ann = await make_user("ann_race")
    bob = await make_user("bob_race")
    post = await make_post(ann["headers"], title="Ann's")
    statuses: list[int] = []
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for i in range(12):
            if (n + i) % 2:
                response = await client.put(
                    "/api/v1/posts/2000000000/favorite", headers=bob["headers"]
                )
            else:
                response = await client.patch(
                    f"/api/v1/posts/{post['id']}", json={"title": "x"}, headers=bob["headers"]
                )
            statuses.append(response.status_code)

    async def terminator() -> int:
        rounds = 0
        while not done.is_set():
            await terminate_backends(database_url)
            rounds += 1
            await asyncio.sleep(0.05)
        return rounds

    killing = asyncio.create_task(terminator())
    try:
        await asyncio.gather(*(writer(n) for n in range(16)))
    finally:
        done.set()
    rounds = await killing
    assert rounds >= 1
    assert len(statuses) == 16 * 12
    assert set(statuses) <= {403, 404, 503}, sorted(set(statuses))
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["title"] == "Ann's"
