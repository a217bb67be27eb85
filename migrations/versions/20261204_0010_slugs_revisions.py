"""slugs and revisions: every slug a post has had, and the versions its changes replaced

Revision ID: 0010_slugs_revisions
Revises: 0009_scheduling
Create Date: 2026-12-04

`post_slugs` holds every slug a post has had, its current one included: an old slug keeps
leading to its post, and no other post may take it. Existing posts get their current slug
there (data in place). `post_revisions` keeps, per post, the 25 newest versions its changes
replaced (title, description, content, status), with who made the change. Both go with their
post (ON DELETE CASCADE). Downgrading drops both tables: old slugs and revisions are lost, the
posts themselves are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import blog_api.kit.db

revision: str = "0010_slugs_revisions"
down_revision: str | None = "0009_scheduling"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_slugs",
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_slugs_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_post_slugs")),
    )
    op.create_index(op.f("ix_post_slugs_post_id"), "post_slugs", ["post_id"], unique=False)
    op.execute("INSERT INTO post_slugs (slug, post_id) SELECT slug, id FROM posts")
    op.create_table(
        "post_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_post_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_post_revisions_author_id"), "post_revisions", ["author_id"], unique=False
    )
    op.create_index(
        "ix_post_revisions_post_id_id", "post_revisions", ["post_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_post_revisions_post_id_id", table_name="post_revisions")
    op.drop_index(op.f("ix_post_revisions_author_id"), table_name="post_revisions")
    op.drop_table("post_revisions")
    op.drop_index(op.f("ix_post_slugs_post_id"), table_name="post_slugs")
    op.drop_table("post_slugs")
