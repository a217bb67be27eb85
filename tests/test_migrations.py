"""The migrations are the schema: upgrade, no drift, downgrade, upgrade again."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from tests.conftest import recreate_postgres_database, run_alembic


@pytest.fixture
async def scratch_url(database_url: str, tmp_path: object) -> str:
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        scratch = url.set(database=f"{url.database}_migrations").render_as_string(
            hide_password=False
        )
        await recreate_postgres_database(scratch)
        return scratch
    return f"sqlite+aiosqlite:///{tmp_path}/migrations.db"


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
