"""The migrations are the schema: upgrade, no drift, downgrade, upgrade again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect, make_url, text
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


async def test_existing_posts_get_their_rendered_content(scratch_url: str) -> None:
    """0007_post_content renders every post there is (in batches, more than one here), and
    going down cuts the excerpts from the raw Markdown again, as the code before it did."""
    assert run_alembic(scratch_url, "upgrade", "0006_sessions").returncode == 0
    engine = create_async_engine(scratch_url)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    markdown = (
        "# Hello\n\nSome **bold** text, a [link](https://example.com) and "
        "<script>alert(1)</script>.\n\n![a](https://example.com/a.png)"
    )
    long = "word " * 300
    posts: list[dict[str, Any]] = [
        {"id": i, "content": markdown if i % 2 else long, "published": i % 3 == 0}
        for i in range(1, 1102)
    ]
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, username, hashed_password, is_active, "
                    "is_superuser, created_at, updated_at) VALUES "
                    "(1, 'a@x.io', 'ann', 'h', true, false, :m, :m)"
                ),
                {"m": moment},
            )
            await conn.execute(
                text(
                    "INSERT INTO posts (id, author_id, title, title_key, slug, content, excerpt, "
                    "published, created_at, updated_at) VALUES (:id, 1, 't', 't', :slug, "
                    ":content, :excerpt, :published, :m, :m)"
                ),
                [
                    {
                        **post,
                        "slug": f"s{post['id']}",
                        "excerpt": post["content"][:200],
                        "m": moment,
                    }
                    for post in posts
                ],
            )
        result = run_alembic(scratch_url, "upgrade", "head")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, content_html, excerpt, reading_time, featured, "
                        "feature_image, meta_title, og_image FROM posts ORDER BY id"
                    )
                )
            ).all()
            assert len(rows) == len(posts)
            first, second, last = rows[0], rows[1], rows[-1]
            assert first.content_html == (
                "<h1>Hello</h1>\n<p>Some <strong>bold</strong> text, a "
                '<a href="https://example.com" rel="nofollow noopener">link</a> and .</p>\n'
                '<p><img src="https://example.com/a.png" alt="a"></p>\n'
            )
            assert first.excerpt == "Hello Some bold text, a link and ."
            assert first.reading_time == 1
            assert second.excerpt == ("word " * 40).rstrip() + "\u2026"
            assert second.reading_time == 2
            assert last.content_html == first.content_html  # past the first batches too
            assert all(row.content_html for row in rows)
            assert {
                (row.featured, row.feature_image, row.meta_title, row.og_image) for row in rows
            } == {(False, None, None, None)}
            published = await conn.scalar(
                text("SELECT sum(delta) FROM counter_deltas WHERE name = 'published_posts'")
            )
            assert published == len([p for p in posts if p["published"]])
        result = run_alembic(scratch_url, "downgrade", "0006_sessions")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            excerpts = (await conn.execute(text("SELECT excerpt FROM posts ORDER BY id"))).all()
            assert excerpts[0][0] == markdown  # short enough to be whole, syntax and all
            assert excerpts[1][0] == ("word " * 40).rstrip() + "\u2026"
            columns = (await conn.execute(text("SELECT * FROM posts LIMIT 1"))).keys()
            assert "content_html" not in columns
            assert "featured" not in columns
        assert run_alembic(scratch_url, "upgrade", "head").returncode == 0
    finally:
        await engine.dispose()


async def test_posts_get_the_status_their_published_flag_says(scratch_url: str) -> None:
    """0009: existing posts become published or drafts as they were, and come back down."""
    assert run_alembic(scratch_url, "upgrade", "0006_sessions").returncode == 0
    engine = create_async_engine(scratch_url)
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, username, hashed_password, is_active, "
                    "is_superuser, created_at, updated_at) VALUES "
                    "(1, 'a@x.io', 'ann', 'h', true, false, :m, :m)"
                ),
                {"m": moment},
            )
            await conn.execute(
                text(
                    "INSERT INTO posts (id, author_id, title, title_key, slug, content, excerpt, "
                    "published, published_at, created_at, updated_at) VALUES "
                    "(1, 1, 'a', 'a', 'a', 'c', 'c', true, :m, :m, :m), "
                    "(2, 1, 'b', 'b', 'b', 'c', 'c', false, NULL, :m, :m), "
                    "(3, 1, 'c', 'c', 'c', 'c', 'c', false, :m, :m, :m)"
                ),
                {"m": moment},
            )
        result = run_alembic(scratch_url, "upgrade", "head")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, status FROM posts ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "published"), (2, "draft"), (3, "draft")]
            total = await conn.scalar(
                text("SELECT sum(delta) FROM counter_deltas WHERE name = 'published_posts'")
            )
            assert total == 1  # the migration counts nothing twice
        result = run_alembic(scratch_url, "downgrade", "0006_sessions")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, published FROM posts ORDER BY id"))).all()
            assert [(r[0], bool(r[1])) for r in rows] == [(1, True), (2, False), (3, False)]
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert "background_jobs" not in tables
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


async def test_existing_posts_get_their_current_slug_in_their_history(scratch_url: str) -> None:
    """0010: every post's slug joins post_slugs (the posts stay as they were); back down, the
    history and the revisions go and the posts stay."""
    assert run_alembic(scratch_url, "upgrade", "0009_scheduling").returncode == 0
    engine = create_async_engine(scratch_url)
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, username, hashed_password, is_active, role, "
                    "created_at, updated_at) VALUES (1, 'a@x.io', 'ann', 'h', true, 'author', "
                    ":m, :m)"
                ),
                {"m": moment},
            )
            await conn.execute(
                text(
                    "INSERT INTO posts (id, author_id, title, title_key, slug, content, excerpt, "
                    "published, status, published_at, created_at, updated_at) VALUES "
                    "(1, 1, 'A', 'a', 'first-post', 'c', 'c', true, 'published', :m, :m, :m), "
                    "(2, 1, 'B', 'b', 'second-post', 'd', 'd', false, 'draft', NULL, :m, :m)"
                ),
                {"m": moment},
            )
        result = run_alembic(scratch_url, "upgrade", "head")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            slugs = (
                await conn.execute(text("SELECT slug, post_id FROM post_slugs ORDER BY post_id"))
            ).all()
            assert [tuple(r) for r in slugs] == [("first-post", 1), ("second-post", 2)]
            posts = (
                await conn.execute(text("SELECT id, slug, title, content FROM posts ORDER BY id"))
            ).all()
            assert [tuple(r) for r in posts] == [
                (1, "first-post", "A", "c"),
                (2, "second-post", "B", "d"),
            ]
            assert await conn.scalar(text("SELECT count(*) FROM post_revisions")) == 0
        async with engine.begin() as conn:
            # Another post may not take a slug the history holds.
            with pytest.raises(IntegrityError):
                async with conn.begin_nested():
                    await conn.execute(
                        text("INSERT INTO post_slugs (slug, post_id) VALUES ('first-post', 2)")
                    )
        result = run_alembic(scratch_url, "downgrade", "0009_scheduling")
        assert result.returncode == 0, result.stderr
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert "post_slugs" not in tables
            assert "post_revisions" not in tables
            posts = (await conn.execute(text("SELECT id, slug FROM posts ORDER BY id"))).all()
            assert [tuple(r) for r in posts] == [(1, "first-post"), (2, "second-post")]
        assert run_alembic(scratch_url, "upgrade", "head").returncode == 0
    finally:
        await engine.dispose()
