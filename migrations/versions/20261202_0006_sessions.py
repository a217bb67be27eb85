"""sessions: every access token names its session, which can end on its own

Revision ID: 0006_sessions
Revises: 0005_social_counters
Create Date: 2026-12-02

A sign-in starts a row in `sessions`; access tokens carry its id (`sid`) and work while it
exists, refresh tokens belong to it (`refresh_tokens.session_id`, the former `family`). Ending a
session deletes its row: its access tokens end at once and its refresh tokens go by cascade.
`users.password_changed_at` (every access token issued before it was refused) goes: a password
change now ends the other sessions and keeps the one that made it.

The data stays: each refresh-token family becomes a session, so refresh tokens keep working.
Access tokens issued before this revision carry no session and are refused: clients refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import blog_api.kit.db

revision: str = "0006_sessions"
down_revision: str | None = "0005_social_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("authenticated_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", blog_api.kit.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"])
    op.execute(
        "INSERT INTO sessions (id, user_id, authenticated_at, expires_at) "
        "SELECT family, min(user_id), min(created_at), max(expires_at) FROM refresh_tokens "
        "GROUP BY family"
    )
    # refresh_tokens has no triggers and nothing refers to it: SQLite's batch copy is safe.
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_index("ix_refresh_tokens_family")
        batch.alter_column("family", new_column_name="session_id")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.create_index("ix_refresh_tokens_session_id", ["session_id"])
        batch.create_foreign_key(
            "fk_refresh_tokens_session_id_sessions",
            "sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )
    # A plain ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+). Never a batch copy
    # of `users`: dropping the old table would cascade to every row that refers to it.
    op.drop_column("users", "password_changed_at")


def downgrade() -> None:
    # Every access token issued before the downgrade is refused by the older code: they all
    # name sessions that it does not know about.
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    default = f"'{now}'" if op.get_context().dialect.name == "sqlite" else f"'{now}+00:00'"
    op.add_column(
        "users",
        sa.Column(
            "password_changed_at",
            blog_api.kit.db.UTCDateTime(),
            nullable=False,
            server_default=sa.text(default),
        ),
    )
    if op.get_context().dialect.name != "sqlite":
        op.alter_column("users", "password_changed_at", server_default=None)
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_constraint("fk_refresh_tokens_session_id_sessions", type_="foreignkey")
        batch.drop_index("ix_refresh_tokens_session_id")
        batch.alter_column("session_id", new_column_name="family")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.create_index("ix_refresh_tokens_family", ["family"])
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.drop_table("sessions")
