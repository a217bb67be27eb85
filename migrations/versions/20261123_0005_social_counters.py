# ruff: noqa: S608 (SQL built from constants of this file only, no input)
"""Favorites, follows, comments, published_at, descriptions, avatars, a title sort key, and one
counter mechanism (an insert-only ledger of signed deltas) for every count

Revision ID: 0005_social_counters
Revises: 0004_refresh_tokens
Create Date: 2026-11-23

The counts that post_stats and tags.published_posts kept by UPDATE (one hot row that every
publish waited on, and locks taken in opposite orders by a delete's cascade and an insert) move
to counter_deltas: triggers append a signed row per change, which never waits on anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import op

import blog_api.kit.db

revision: str = "0005_social_counters"
down_revision: str | None = "0004_refresh_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSERT = "INSERT INTO counter_deltas (name, key, delta)"

# Rows counted as they come and go: (table, ((counter, key column), ...)).
_ROW_COUNTERS = (
    ("favorites", (("post_favorites", "post_id"),)),
    ("comments", (("post_comments", "post_id"),)),
    ("follows", (("user_followers", "followed_id"), ("user_following", "follower_id"))),
)

# PostgreSQL. A post counts while it is published: overall, for its author and for each of
# its tags. Deleting a post: its links go by cascade after the post row, so the BEFORE DELETE
# trigger counts them off while they still exist, and the link trigger only counts links whose
# post still exists and is published (a cascade is never counted twice).
_PG_POSTS_FUNCTION = f"""
CREATE FUNCTION count_posts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d integer;
    p posts%ROWTYPE;
BEGIN
    IF TG_OP = 'INSERT' THEN
        d := CASE WHEN NEW.published THEN 1 ELSE 0 END;
        p := NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        d := NEW.published::integer - OLD.published::integer;
        p := NEW;
    ELSE
        d := -(OLD.published::integer);
        p := OLD;
    END IF;
    IF d <> 0 THEN
        {_INSERT} VALUES ('published_posts', 0, d), ('user_posts', p.author_id, d);
        IF TG_OP <> 'INSERT' THEN
            {_INSERT} SELECT 'tag_posts', tag_id, d FROM post_tags WHERE post_id = p.id;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END
$$
"""

_PG_POST_TAGS_FUNCTION = f"""
CREATE FUNCTION count_post_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_INSERT} SELECT 'tag_posts', NEW.tag_id, 1 FROM posts
        WHERE id = NEW.post_id AND published;
    ELSE
        {_INSERT} SELECT 'tag_posts', OLD.tag_id, -1 FROM posts
        WHERE id = OLD.post_id AND published;
    END IF;
    RETURN NULL;
END
$$
"""

# Generic: count_rows('counter', 'key column', ...) adds 1 per inserted row and -1 per deleted
# row to each named counter, keyed by the row's column.
_PG_ROWS_FUNCTION = f"""
CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    d integer;
    i integer := 0;
BEGIN
    IF TG_OP = 'INSERT' THEN
        r := to_jsonb(NEW);
        d := 1;
    ELSE
        r := to_jsonb(OLD);
        d := -1;
    END IF;
    WHILE i < TG_NARGS LOOP
        {_INSERT} VALUES (TG_ARGV[i], (r ->> TG_ARGV[i + 1])::integer, d);
        i := i + 2;
    END LOOP;
    RETURN NULL;
END
$$
"""


def _pg_statements() -> list[str]:
    statements = [
        _PG_POSTS_FUNCTION,
        _PG_POST_TAGS_FUNCTION,
        _PG_ROWS_FUNCTION,
        "CREATE TRIGGER trg_posts_count AFTER INSERT OR UPDATE OF published ON posts "
        "FOR EACH ROW EXECUTE FUNCTION count_posts()",
        "CREATE TRIGGER trg_posts_count_delete BEFORE DELETE ON posts "
        "FOR EACH ROW EXECUTE FUNCTION count_posts()",
        "CREATE TRIGGER trg_post_tags_count AFTER INSERT OR DELETE ON post_tags "
        "FOR EACH ROW EXECUTE FUNCTION count_post_tags()",
    ]
    for table, counters in _ROW_COUNTERS:
        args = ", ".join(f"'{name}', '{column}'" for name, column in counters)
        statements.append(
            f"CREATE TRIGGER trg_{table}_count AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION count_rows({args})"
        )
    return statements


_PG_DROP = (
    "DROP TRIGGER IF EXISTS trg_posts_count ON posts",
    "DROP TRIGGER IF EXISTS trg_posts_count_delete ON posts",
    "DROP TRIGGER IF EXISTS trg_post_tags_count ON post_tags",
    *(f"DROP TRIGGER IF EXISTS trg_{table}_count ON {table}" for table, _ in _ROW_COUNTERS),
    "DROP FUNCTION IF EXISTS count_posts()",
    "DROP FUNCTION IF EXISTS count_post_tags()",
    "DROP FUNCTION IF EXISTS count_rows()",
)

_SIGN = "CASE WHEN NEW.published THEN 1 ELSE -1 END"
_SQLITE_POST_TRIGGERS = {
    "trg_posts_count_insert": f"""
    CREATE TRIGGER trg_posts_count_insert AFTER INSERT ON posts WHEN NEW.published
    BEGIN
        {_INSERT} VALUES ('published_posts', 0, 1), ('user_posts', NEW.author_id, 1);
    END
    """,
    "trg_posts_count_publish": f"""
    CREATE TRIGGER trg_posts_count_publish AFTER UPDATE OF published ON posts
    WHEN OLD.published <> NEW.published
    BEGIN
        {_INSERT} VALUES ('published_posts', 0, {_SIGN}), ('user_posts', NEW.author_id, {_SIGN});
        {_INSERT} SELECT 'tag_posts', tag_id, {_SIGN} FROM post_tags WHERE post_id = NEW.id;
    END
    """,
    "trg_posts_count_delete": f"""
    CREATE TRIGGER trg_posts_count_delete BEFORE DELETE ON posts WHEN OLD.published
    BEGIN
        {_INSERT} VALUES ('published_posts', 0, -1), ('user_posts', OLD.author_id, -1);
        {_INSERT} SELECT 'tag_posts', tag_id, -1 FROM post_tags WHERE post_id = OLD.id;
    END
    """,
    "trg_post_tags_count_insert": f"""
    CREATE TRIGGER trg_post_tags_count_insert AFTER INSERT ON post_tags
    BEGIN
        {_INSERT} SELECT 'tag_posts', NEW.tag_id, 1 FROM posts
        WHERE id = NEW.post_id AND published;
    END
    """,
    "trg_post_tags_count_delete": f"""
    CREATE TRIGGER trg_post_tags_count_delete AFTER DELETE ON post_tags
    BEGIN
        {_INSERT} SELECT 'tag_posts', OLD.tag_id, -1 FROM posts
        WHERE id = OLD.post_id AND published;
    END
    """,
}


def _sqlite_row_triggers() -> dict[str, str]:
    triggers = {}
    for table, counters in _ROW_COUNTERS:
        for event, row, sign in (("insert", "NEW", 1), ("delete", "OLD", -1)):
            values = ", ".join(f"('{name}', {row}.{column}, {sign})" for name, column in counters)
            name = f"trg_{table}_count_{event}"
            triggers[name] = (
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} "
                f"BEGIN {_INSERT} VALUES {values}; END"
            )
    return triggers


# What the ledger starts with: today's counts, one settled row per counter.
_SEED = """
INSERT INTO counter_deltas (name, key, delta, pending)
SELECT 'published_posts', 0, count(*), false FROM posts WHERE published HAVING count(*) > 0
UNION ALL
SELECT 'user_posts', author_id, count(*), false FROM posts WHERE published GROUP BY author_id
UNION ALL
SELECT 'tag_posts', post_tags.tag_id, count(*), false
FROM post_tags JOIN posts ON posts.id = post_tags.post_id
WHERE posts.published GROUP BY post_tags.tag_id
"""


def _previous() -> ModuleType:
    """Revision 0003, whose triggers and tables the downgrade puts back."""
    script = op.get_context().script
    assert script is not None
    module: ModuleType = script.get_revision("0003_post_stats_search").module
    return module


def _drop_previous_counters(is_pg: bool) -> None:
    if is_pg:
        for statement in (
            "DROP TRIGGER IF EXISTS trg_posts_count_published ON posts",
            "DROP TRIGGER IF EXISTS trg_posts_tags_count_delete ON posts",
            "DROP TRIGGER IF EXISTS trg_posts_tags_count_publish ON posts",
            "DROP TRIGGER IF EXISTS trg_post_tags_count_published ON post_tags",
            "DROP FUNCTION IF EXISTS posts_count_published()",
            "DROP FUNCTION IF EXISTS posts_tags_count_published()",
            "DROP FUNCTION IF EXISTS post_tags_count_published()",
        ):
            op.execute(statement)
    else:
        for name in (
            "posts_count_insert",
            "posts_count_delete",
            "posts_count_update",
            "post_tags_count_insert",
            "post_tags_count_delete",
            "posts_tags_count_delete",
            "posts_tags_count_publish",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{name}")
    op.drop_column("tags", "published_posts")
    op.drop_table("post_stats")


def _fill_title_keys() -> None:
    """title_key = the casefolded title (Python's casefold: SQL's lower() differs per database)."""
    bind = op.get_bind()
    posts = sa.table("posts", sa.column("id", sa.Integer), sa.column("title", sa.String))
    keys = sa.table("posts", sa.column("id", sa.Integer), sa.column("title_key", sa.String))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.title)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(5000)
        ).all()
        if not rows:
            return
        bind.execute(
            sa.update(keys)
            .where(keys.c.id == sa.bindparam("pid"))
            .values(title_key=sa.bindparam("key")),
            [{"pid": row.id, "key": row.title.casefold()} for row in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    title_key_type = sa.String(length=800, collation="C") if is_pg else sa.String(length=800)

    op.add_column("users", sa.Column("image", sa.String(length=500), nullable=True))
    op.add_column("posts", sa.Column("description", sa.String(length=300), nullable=True))
    op.add_column("posts", sa.Column("published_at", blog_api.kit.db.UTCDateTime(), nullable=True))
    # NOT NULL with a default so that SQLite adds it in place (no copy of the table under the
    # foreign keys pointing at it); PostgreSQL drops the default once the keys are filled.
    op.add_column(
        "posts", sa.Column("title_key", title_key_type, nullable=False, server_default="")
    )
    op.execute("UPDATE posts SET published_at = created_at WHERE published")
    _fill_title_keys()
    if is_pg:
        op.alter_column("posts", "title_key", server_default=None)
    op.drop_index("ix_posts_published_title_id", table_name="posts")
    op.create_index("ix_posts_published_title_key_id", "posts", ["published", "title_key", "id"])
    op.create_index(
        "ix_posts_published_published_at_id", "posts", ["published", "published_at", "id"]
    )
    op.create_index(
        "ix_posts_author_id_published_at_id", "posts", ["author_id", "published_at", "id"]
    )

    op.create_table(
        "favorites",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("created_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_favorites_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_favorites_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "post_id", name=op.f("pk_favorites")),
    )
    op.create_index("ix_favorites_post_id_created_at", "favorites", ["post_id", "created_at"])
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("followed_id", sa.Integer(), nullable=False),
        sa.Column("created_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("follower_id <> followed_id", name=op.f("ck_follows_not_self")),
        sa.ForeignKeyConstraint(
            ["followed_id"],
            ["users.id"],
            name=op.f("fk_follows_followed_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followed_id", name=op.f("pk_follows")),
    )
    op.create_index(
        "ix_follows_followed_id_created_at",
        "follows",
        ["followed_id", "created_at", "follower_id"],
    )
    op.create_index(
        "ix_follows_follower_id_created_at",
        "follows",
        ["follower_id", "created_at", "followed_id"],
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_comments_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_comments_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_comments_author_id", "comments", ["author_id"])
    op.create_index(
        "ix_comments_post_id_created_at_id", "comments", ["post_id", "created_at", "id"]
    )

    op.create_table(
        "counter_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("key", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_deltas")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_counter_deltas_name_key_delta", "counter_deltas", ["name", "key", "delta"])
    op.create_index(
        "ix_counter_deltas_pending",
        "counter_deltas",
        ["id"],
        postgresql_where=sa.text("pending"),
        sqlite_where=sa.text("pending"),
    )

    _drop_previous_counters(is_pg)
    op.execute(_SEED)
    if is_pg:
        for statement in _pg_statements():
            op.execute(statement)
    else:
        for statement in (*_SQLITE_POST_TRIGGERS.values(), *_sqlite_row_triggers().values()):
            op.execute(statement)


def downgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    if is_pg:
        for statement in _PG_DROP:
            op.execute(statement)
    else:
        for name in (*_SQLITE_POST_TRIGGERS, *_sqlite_row_triggers()):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("counter_deltas")
    op.drop_table("comments")
    op.drop_table("follows")
    op.drop_table("favorites")

    op.drop_index("ix_posts_author_id_published_at_id", table_name="posts")
    op.drop_index("ix_posts_published_published_at_id", table_name="posts")
    op.drop_index("ix_posts_published_title_key_id", table_name="posts")
    op.create_index("ix_posts_published_title_id", "posts", ["published", "title", "id"])
    op.drop_column("posts", "title_key")
    op.drop_column("posts", "published_at")
    op.drop_column("posts", "description")
    op.drop_column("users", "image")

    # Revision 0003's counters, recounted, and its triggers.
    previous = _previous()
    op.create_table(
        "post_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published_posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_stats")),
    )
    op.execute(
        "INSERT INTO post_stats (id, published_posts) SELECT 1, count(*) FROM posts WHERE published"
    )
    op.add_column(
        "tags", sa.Column("published_posts", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(
        "UPDATE tags SET published_posts = (SELECT count(*) FROM post_tags "
        "JOIN posts ON posts.id = post_tags.post_id "
        "WHERE post_tags.tag_id = tags.id AND posts.published)"
    )
    if is_pg:
        statements = (
            previous._POSTGRES_FUNCTION,
            previous._POSTGRES_TRIGGER,
            *previous._POSTGRES_TAG_FUNCTIONS,
            *previous._POSTGRES_TAG_TRIGGERS,
        )
    else:
        statements = (*previous._SQLITE_TRIGGERS, *previous._SQLITE_TAG_TRIGGERS)
    for statement in statements:
        op.execute(statement)
