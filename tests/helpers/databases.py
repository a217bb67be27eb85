"""PostgreSQL databases of a test run's own: made before it uses them, dropped after."""

from __future__ import annotations

import asyncpg
from sqlalchemy import make_url


async def _on_postgres_server(url: str, *statements: str) -> None:
    """Run `statements` (with `{db}` standing for the database `url` names) on its server."""
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(server)
    try:
        for statement in statements:
            await conn.execute(statement.format(db=f'"{target.database}"'))
    finally:
        await conn.close()


async def recreate_postgres_database(url: str) -> None:
    """Drop and create the database `url` names, on the server it names."""
    await _on_postgres_server(
        url, "DROP DATABASE IF EXISTS {db} WITH (FORCE)", "CREATE DATABASE {db}"
    )


async def drop_postgres_database(url: str) -> None:
    """Drop the database `url` names: a test run leaves no database behind."""
    await _on_postgres_server(url, "DROP DATABASE IF EXISTS {db} WITH (FORCE)")
