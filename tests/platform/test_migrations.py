"""The migrations are the schema: upgrade, no drift, downgrade, upgrade again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers.databases import drop_postgres_database, recreate_postgres_database
from tests.helpers.project import run_alembic


@pytest.fixture
async def scratch_url(database_url: str, tmp_path: object) -> AsyncIterator[str]:
    """A database of this test's own: `<test database>_migrations` on PostgreSQL (dropped
    afterwards), a file in the test's temporary directory on SQLite."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path}/migrations.db"
        return
    url = make_url(database_url)
    scratch = url.set(database=f"{url.database}_migrations").render_as_string(hide_password=False)
    await recreate_postgres_database(scratch)
    yield scratch
    await drop_postgres_database(scratch)


def test_upgrade_check_downgrade_upgrade(scratch_url: str) -> None:
    for args in (
        ("upgrade", "head"),
        ("check",),
        ("downgrade", "base"),
        ("upgrade", "head"),
        ("check",),
    ):
        result = run_alembic(scratch_url, *args)
        assert result.returncode == 0, (
            f"alembic {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    assert "No new upgrade operations detected" in run_alembic(scratch_url, "check").stdout


async def test_upgrade_keeps_the_data_and_its_counts(scratch_url: str) -> None:
    """From the revision before the counter ledger, with data in it, up and down again."""
    assert run_alembic(scratch_url, "upgrade", "0003_post_stats_search").returncode == 0
    engine = create_async_engine(scratch_url)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, username, hashed_password, is_active, "
                    "is_superuser, password_changed_at, created_at, updated_at) VALUES "
                    "(1, 'a@x.io', 'ann', 'h', true, false, :m, :m, :m), "
                    "(2, 'b@x.io', 'bob', 'h', true, false, :m, :m, :m)"
                ),
                {"m": moment},
            )
            await conn.execute(
                text(
                    "INSERT INTO posts (id, author_id, title, slug, content, excerpt, published, "
                    "created_at, updated_at) VALUES "
                    "(1, 1, 'Straße', 's1', 'c', 'c', true, :m, :m), "
                    "(2, 1, 'Zebra', 's2', 'c', 'c', false, :m, :m), "
                    "(3, 2, 'apple', 's3', 'c', 'c', true, :m, :m)"
                ),
                {"m": moment},
            )
            await conn.execute(text("INSERT INTO tags (id, name) VALUES (1, 'x'), (2, 'y')"))
            await conn.execute(
                text(
                    "INSERT INTO post_tags (post_id, tag_id) VALUES (1, 1), (2, 1), (3, 1), (3, 2)"
                )
            )
        result = run_alembic(scratch_url, "upgrade", "head")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            posts = (
                await conn.execute(
                    text("SELECT id, title_key, published_at FROM posts ORDER BY id")
                )
            ).all()
            assert [p.title_key for p in posts] == ["strasse", "zebra", "apple"]
            assert [p.published_at is not None for p in posts] == [True, False, True]
            counts = (
                await conn.execute(
                    text(
                        "SELECT name, key, sum(delta) FROM counter_deltas GROUP BY name, key "
                        "ORDER BY name, key"
                    )
                )
            ).all()
            assert [tuple(c) for c in counts] == [
                ("published_posts", 0, 2),
                ("tag_posts", 1, 2),
                ("tag_posts", 2, 1),
                ("user_posts", 1, 1),
                ("user_posts", 2, 1),
            ]
        result = run_alembic(scratch_url, "downgrade", "0003_post_stats_search")
        assert result.returncode == 0, result.stderr
        async with engine.begin() as conn:
            assert (await conn.scalar(text("SELECT published_posts FROM post_stats"))) == 2
            tags = (await conn.execute(text("SELECT published_posts FROM tags ORDER BY id"))).all()
            assert [t[0] for t in tags] == [2, 1]
            # The revision's own triggers are back.
            await conn.execute(text("DELETE FROM posts WHERE id = 3"))
            assert (await conn.scalar(text("SELECT published_posts FROM post_stats"))) == 1
    finally:
        await engine.dispose()


async def test_refresh_token_families_become_sessions(scratch_url: str) -> None:
    """Each family of refresh tokens becomes a session that lasts as long as its newest token;
    the tokens keep working, and the users (with everything that refers to them) stay."""
    assert run_alembic(scratch_url, "upgrade", "0005_social_counters").returncode == 0
    engine = create_async_engine(scratch_url)
    signed_in = datetime(2026, 11, 1, tzinfo=UTC)
    later = datetime(2026, 11, 20, tzinfo=UTC)
    ends = datetime(2026, 12, 20, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, username, hashed_password, is_active, "
                    "is_superuser, password_changed_at, created_at, updated_at) VALUES "
                    "(1, 'a@x.io', 'ann', 'h', true, false, :m, :m, :m)"
                ),
                {"m": signed_in},
            )
            await conn.execute(
                text(
                    "INSERT INTO posts (id, author_id, title, title_key, slug, content, excerpt, "
                    "published, created_at, updated_at) "
                    "VALUES (1, 1, 't', 't', 's', 'c', 'c', true, :m, :m)"
                ),
                {"m": signed_in},
            )
            await conn.execute(
                text(
                    "INSERT INTO refresh_tokens (user_id, family, token_hash, created_at, "
                    "expires_at, used_at) VALUES "
                    "(1, 'f1', 'h1', :a, :b, :b), (1, 'f1', 'h2', :b, :c, NULL), "
                    "(1, 'f2', 'h3', :b, :c, NULL)"
                ),
                {"a": signed_in, "b": later, "c": ends},
            )
        result = run_alembic(scratch_url, "upgrade", "head")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            sessions = (
                await conn.execute(
                    text(
                        "SELECT id, user_id, authenticated_at, expires_at FROM sessions ORDER BY id"
                    )
                )
            ).all()
            assert [(s.id, s.user_id) for s in sessions] == [("f1", 1), ("f2", 1)]
            tokens = (
                await conn.execute(
                    text("SELECT token_hash, session_id FROM refresh_tokens ORDER BY token_hash")
                )
            ).all()
            assert [tuple(t) for t in tokens] == [("h1", "f1"), ("h2", "f1"), ("h3", "f2")]
            assert (await conn.scalar(text("SELECT count(*) FROM posts"))) == 1
        # Ending a session takes its refresh tokens with it.
        async with engine.begin() as conn:
            if scratch_url.startswith("sqlite"):
                await conn.execute(text("PRAGMA foreign_keys=ON"))
            await conn.execute(text("DELETE FROM sessions WHERE id = 'f1'"))
            left = (await conn.execute(text("SELECT token_hash FROM refresh_tokens"))).all()
            assert [t[0] for t in left] == ["h3"]
        result = run_alembic(scratch_url, "downgrade", "0005_social_counters")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            family = await conn.scalar(text("SELECT family FROM refresh_tokens"))
            assert family == "f2"
            assert (await conn.scalar(text("SELECT count(*) FROM users"))) == 1
    finally:
        await engine.dispose()


async def test_superusers_become_admins_and_everyone_else_an_author(scratch_url: str) -> None:
    """0008_roles: the data stays, each user gets the role of what they were; back down,
    admins are the superusers again and the other roles are plain users."""
    assert run_alembic(scratch_url, "upgrade", "0006_sessions").returncode == 0
    engine = create_async_engine(scratch_url)
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, username, hashed_password, is_active, "
                    "is_superuser, created_at, updated_at) VALUES "
                    "(1, 'a@x.io', 'ann', 'h', true, true, :m, :m), "
                    "(2, 'b@x.io', 'bob', 'h', true, false, :m, :m), "
                    "(3, 'c@x.io', 'cid', 'h', false, false, :m, :m)"
                ),
                {"m": moment},
            )
            await conn.execute(
                text(
                    "INSERT INTO posts (id, author_id, title, title_key, slug, content, excerpt, "
                    "published, created_at, updated_at) "
                    "VALUES (1, 2, 't', 't', 's', 'c', 'c', true, :m, :m)"
                ),
                {"m": moment},
            )
        result = run_alembic(scratch_url, "upgrade", "head")
        assert result.returncode == 0, result.stderr
        async with engine.begin() as conn:
            rows = (await conn.execute(text("SELECT id, role FROM users ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "admin"), (2, "author"), (3, "author")]
            assert (await conn.scalar(text("SELECT count(*) FROM posts"))) == 1
            await conn.execute(text("UPDATE users SET role = 'editor' WHERE id = 3"))
        # The database keeps the column to the four roles.
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE users SET role = 'root' WHERE id = 2"))
        result = run_alembic(scratch_url, "downgrade", "0006_sessions")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT id, is_superuser FROM users ORDER BY id"))
            ).all()
            assert [(r[0], bool(r[1])) for r in rows] == [(1, True), (2, False), (3, False)]
            assert (await conn.scalar(text("SELECT count(*) FROM posts"))) == 1
    finally:
        await engine.dispose()
