"""Exact published-post count kept by triggers; trigram indexes for text search

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in TRIGRAM_INDEXES.items():
            # gin_trgm_ops answers ILIKE directly, which is what `q` compiles to here.
            op.execute(f"CREATE INDEX {name} ON posts USING gin ({column} gin_trgm_ops)")
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("DROP TRIGGER IF EXISTS trg_posts_count_published ON posts")
        op.execute("DROP FUNCTION IF EXISTS posts_count_published()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_posts_count_{name}")
    op.drop_table("post_stats")
