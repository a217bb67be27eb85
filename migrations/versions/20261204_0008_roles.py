"""roles: users.role (contributor, author, editor, admin) replaces users.is_superuser

Revision ID: 0008_roles
Revises: 0006_sessions
Create Date: 2026-12-04

Every user gets a role; superusers become admins, everyone else an author (the default
DEFAULT_ROLE). `is_superuser` is no longer stored: the app derives it from the role (true
exactly for admins), so the two can never disagree. A CHECK constraint keeps the column to the
four roles.

The column is added with a plain ALTER TABLE ... ADD COLUMN on both databases, its CHECK inline
(SQLite cannot add a constraint to a table but by copying it, and a batch copy of `users`
would cascade to every row that refers to it). SQLite keeps the column's DEFAULT 'author',
which it cannot drop in place; the app always sets the role itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_roles"
down_revision: str | None = "0007_post_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("contributor", "author", "editor", "admin")


def upgrade() -> None:
    allowed = ", ".join(f"'{role}'" for role in ROLES)
    op.execute(
        "ALTER TABLE users ADD COLUMN role VARCHAR(16) DEFAULT 'author' NOT NULL "
        f"CONSTRAINT ck_users_role CHECK (role IN ({allowed}))"
    )
    op.execute("UPDATE users SET role = 'admin' WHERE is_superuser")
    if op.get_context().dialect.name != "sqlite":
        op.alter_column("users", "role", server_default=None)
    # A plain ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+): never a batch copy.
    op.drop_column("users", "is_superuser")


def downgrade() -> None:
    op.add_column(
        "users",
        sa.Column("is_superuser", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE users SET is_superuser = (role = 'admin')")
    if op.get_context().dialect.name != "sqlite":
        op.alter_column("users", "is_superuser", server_default=None)
    # Its CHECK constraint belongs to the column and goes with it (on SQLite too).
    op.drop_column("users", "role")
