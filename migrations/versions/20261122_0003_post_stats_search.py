"""Exact published-post counts (overall and per tag) kept by triggers; trigram indexes

Revision ID: 0003_post_stats_search
Revises: 0002_posts_tags
Create Date: 2026-11-22

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_post_stats_search"
down_revision: str | None = "0002_posts_tags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The search indexes as this revision made them (models.SEARCH_INDEXES names them for
# alembic check); kept here so that the revision never changes with the models.
TRIGRAM_INDEXES = {"ix_posts_title_trgm": "title", "ix_posts_content_trgm": "content"}

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER trg_posts_count_insert AFTER INSERT ON posts WHEN NEW.published
    BEGIN UPDATE post_stats SET published_posts = published_posts + 1 WHERE id = 1; END
    """,
    """
    CREATE TRIGGER trg_posts_count_delete AFTER DELETE ON posts WHEN OLD.published
    BEGIN UPDATE post_stats SET published_posts = published_posts - 1 WHERE id = 1; END
    """,
    """
    CREATE TRIGGER trg_posts_count_update AFTER UPDATE OF published ON posts
    WHEN OLD.published <> NEW.published
    BEGIN
        UPDATE post_stats
        SET published_posts = published_posts + (CASE WHEN NEW.published THEN 1 ELSE -1 END)
        WHERE id = 1;
    END
    """,
)

# Per tag. A post's links are counted while the post is published. Deleting a post: its
# links go by cascade after the post row, so the BEFORE DELETE trigger on posts takes them
# off while they still exist, and the link trigger only counts links whose post still
# exists and is published (so a cascade is never counted twice).
_SQLITE_TAG_TRIGGERS = (
    """
    CREATE TRIGGER trg_post_tags_count_insert AFTER INSERT ON post_tags
    WHEN (SELECT published FROM posts WHERE id = NEW.post_id)
    BEGIN UPDATE tags SET published_posts = published_posts + 1 WHERE id = NEW.tag_id; END
    """,
    """
    CREATE TRIGGER trg_post_tags_count_delete AFTER DELETE ON post_tags
    WHEN (SELECT published FROM posts WHERE id = OLD.post_id)
    BEGIN UPDATE tags SET published_posts = published_posts - 1 WHERE id = OLD.tag_id; END
    """,
    """
    CREATE TRIGGER trg_posts_tags_count_delete BEFORE DELETE ON posts WHEN OLD.published
    BEGIN
        UPDATE tags SET published_posts = published_posts - 1
        WHERE id IN (SELECT tag_id FROM post_tags WHERE post_id = OLD.id);
    END
    """,
    """
    CREATE TRIGGER trg_posts_tags_count_publish AFTER UPDATE OF published ON posts
    WHEN OLD.published <> NEW.published
    BEGIN
        UPDATE tags
        SET published_posts = published_posts + (CASE WHEN NEW.published THEN 1 ELSE -1 END)
        WHERE id IN (SELECT tag_id FROM post_tags WHERE post_id = NEW.id);
    END
    """,
)

_POSTGRES_TAG_FUNCTIONS = (
    """
    CREATE FUNCTION post_tags_count_published() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF EXISTS (SELECT 1 FROM posts WHERE id = NEW.post_id AND published) THEN
                UPDATE tags SET published_posts = published_posts + 1 WHERE id = NEW.tag_id;
            END IF;
        ELSIF EXISTS (SELECT 1 FROM posts WHERE id = OLD.post_id AND published) THEN
            UPDATE tags SET published_posts = published_posts - 1 WHERE id = OLD.tag_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION posts_tags_count_published() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.published THEN
                UPDATE tags SET published_posts = published_posts - 1
                WHERE id IN (SELECT tag_id FROM post_tags WHERE post_id = OLD.id);
            END IF;
            RETURN OLD;
        END IF;
        IF OLD.published <> NEW.published THEN
            UPDATE tags
            SET published_posts = published_posts + (CASE WHEN NEW.published THEN 1 ELSE -1 END)
            WHERE id IN (SELECT tag_id FROM post_tags WHERE post_id = NEW.id);
        END IF;
        RETURN NEW;
    END
    $$
    """,
)

_POSTGRES_TAG_TRIGGERS = (
    """
    CREATE TRIGGER trg_post_tags_count_published AFTER INSERT OR DELETE ON post_tags
    FOR EACH ROW EXECUTE FUNCTION post_tags_count_published()
    """,
    """
    CREATE TRIGGER trg_posts_tags_count_delete BEFORE DELETE ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_tags_count_published()
    """,
    """
    CREATE TRIGGER trg_posts_tags_count_publish AFTER UPDATE OF published ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_tags_count_published()
    """,
)

_POSTGRES_FUNCTION = """
CREATE FUNCTION posts_count_published() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta integer := 0;
BEGIN
    IF TG_OP = 'INSERT' THEN
        delta := NEW.published::integer;
    ELSIF TG_OP = 'DELETE' THEN
        delta := -OLD.published::integer;
    ELSE
        delta := NEW.published::integer - OLD.published::integer;
    END IF;
    IF delta <> 0 THEN
        UPDATE post_stats SET published_posts = published_posts + delta WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$
"""

_POSTGRES_TRIGGER = """
CREATE TRIGGER trg_posts_count_published
AFTER INSERT OR DELETE OR UPDATE OF published ON posts
FOR EACH ROW EXECUTE FUNCTION posts_count_published()
"""


def upgrade() -> None:
    op.create_table(
        "post_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published_posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_stats")),
    )
    op.execute(
        "INSERT INTO post_stats (id, published_posts) SELECT 1, count(*) FROM posts WHERE published"
    )
    # A plain ADD COLUMN on both databases (no batch copy of the table, which on SQLite would
    # drop and recreate it under the foreign keys that point at it).
    op.add_column(
        "tags", sa.Column("published_posts", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(
        "UPDATE tags SET published_posts = (SELECT count(*) FROM post_tags "
        "JOIN posts ON posts.id = post_tags.post_id "
        "WHERE post_tags.tag_id = tags.id AND posts.published)"
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in (
            _POSTGRES_FUNCTION,
            _POSTGRES_TRIGGER,
            *_POSTGRES_TAG_FUNCTIONS,
            *_POSTGRES_TAG_TRIGGERS,
        ):
            op.execute(statement)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in TRIGRAM_INDEXES.items():
            # gin_trgm_ops answers ILIKE directly, which is what `q` compiles to here.
            op.execute(f"CREATE INDEX {name} ON posts USING gin ({column} gin_trgm_ops)")
    else:
        for statement in (*_SQLITE_TRIGGERS, *_SQLITE_TAG_TRIGGERS):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("DROP TRIGGER IF EXISTS trg_posts_count_published ON posts")
        op.execute("DROP TRIGGER IF EXISTS trg_posts_tags_count_delete ON posts")
        op.execute("DROP TRIGGER IF EXISTS trg_posts_tags_count_publish ON posts")
        op.execute("DROP TRIGGER IF EXISTS trg_post_tags_count_published ON post_tags")
        op.execute("DROP FUNCTION IF EXISTS posts_count_published()")
        op.execute("DROP FUNCTION IF EXISTS posts_tags_count_published()")
        op.execute("DROP FUNCTION IF EXISTS post_tags_count_published()")
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
    # SQLite (3.35+) drops a column in place too.
    op.drop_column("tags", "published_posts")
    op.drop_table("post_stats")
