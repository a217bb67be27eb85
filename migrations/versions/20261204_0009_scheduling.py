"""scheduling: a post's status (draft, scheduled, published), and the background jobs' turns

Revision ID: 0009_scheduling
Revises: 0006_sessions
Create Date: 2026-12-04

`posts.status` joins `posts.published`, which stays true exactly for published posts (the
counter triggers count that column, so a scheduled post that goes live is counted once, by
them). Existing posts get the status their `published` says. A partial index serves the job
that publishes scheduled posts. `background_jobs` holds each background job's next turn and
the lease of the process running it (blog_api/kit/background.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import blog_api.kit.db

revision: str = "0009_scheduling"
down_revision: str | None = "0008_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCHEDULED = sa.text("status = 'scheduled'")


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN on both databases: never a batch copy of `posts`,
    # whose triggers and cascades a copy would lose or fire.
    op.add_column(
        "posts",
        sa.Column(
            "status", sa.String(length=16), nullable=False, server_default=sa.text("'draft'")
        ),
    )
    op.execute("UPDATE posts SET status = 'published' WHERE published")
    op.create_index(
        "ix_posts_scheduled_published_at",
        "posts",
        ["published_at"],
        postgresql_where=_SCHEDULED,
        sqlite_where=_SCHEDULED,
    )
    op.create_table(
        "background_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("due_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.Column("lease_until", blog_api.kit.db.UTCDateTime(), nullable=True),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_background_jobs")),
    )


def downgrade() -> None:
    op.drop_table("background_jobs")
    op.drop_index("ix_posts_scheduled_published_at", table_name="posts")
    # Scheduled posts become the drafts the older code knows (their instant kept).
    op.drop_column("posts", "status")
