"""post content: Markdown rendered to sanitised HTML, reading time, feature image, SEO, featured

Revision ID: 0007_post_content
Revises: 0006_sessions
Create Date: 2026-12-04

`posts.content` is Markdown from now on. Each post keeps its rendered, sanitised HTML
(`content_html`) and its `reading_time` beside it, and its `excerpt` is now taken from the
rendered text (no Markdown syntax in it). Posts also get a feature image (URL, alt text,
caption), SEO and social-card fields, and `featured` (with an index for `?featured=true`).

The data stays: every existing post is rendered here, in batches, with the renderer the app
uses (blog_api.kit.markdown). Going down, the excerpts are cut from the raw content again, as
the older code did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from blog_api.kit.markdown import render
from blog_api.kit.rules import excerpt

revision: str = "0007_post_content"
down_revision: str | None = "0006_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
_INDEX = "ix_posts_featured_published_published_at_id"
_OPTIONAL = (
    ("feature_image", 2000),
    ("feature_image_alt", 191),
    ("feature_image_caption", 500),
    ("meta_title", 300),
    ("meta_description", 500),
    ("canonical_url", 2000),
    ("og_title", 300),
    ("og_description", 500),
    ("og_image", 2000),
)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: never a batch copy of `posts`, whose
    # triggers keep the counters and whose rows others refer to.
    op.add_column("posts", sa.Column("content_html", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "posts",
        sa.Column("reading_time", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    for name, length in _OPTIONAL:
        op.add_column("posts", sa.Column(name, sa.String(length=length), nullable=True))
    op.add_column(
        "posts", sa.Column("featured", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index(_INDEX, "posts", ["featured", "published", "published_at", "id"])

    def rendered(content: str) -> dict[str, Any]:
        result = render(content)
        return {
            "content_html": result.html,
            "excerpt": result.excerpt,
            "reading_time": result.reading_time,
        }

    _rewrite(
        rendered, "content_html = :content_html, excerpt = :excerpt, reading_time = :reading_time"
    )


def downgrade() -> None:
    _rewrite(lambda content: {"excerpt": excerpt(content)}, "excerpt = :excerpt")
    op.drop_index(_INDEX, table_name="posts")
    for name in ("featured", *reversed([name for name, _ in _OPTIONAL])):
        op.drop_column("posts", name)
    op.drop_column("posts", "reading_time")
    op.drop_column("posts", "content_html")


def _rewrite(values: Callable[[str], dict[str, Any]], assignments: str) -> None:
    """Set `assignments` on every post, from `values` of its content, BATCH posts at a time in
    id order (the update changes no column a trigger watches)."""
    bind = op.get_bind()
    select = sa.text("SELECT id, content FROM posts WHERE id > :after ORDER BY id LIMIT :batch")
    update = sa.text(f"UPDATE posts SET {assignments} WHERE id = :id")  # noqa: S608
    after = 0
    while True:
        rows = bind.execute(select, {"after": after, "batch": BATCH}).all()
        if not rows:
            return
        bind.execute(update, [{"id": row.id, **values(row.content)} for row in rows])
        after = rows[-1].id
