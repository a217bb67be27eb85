"""The plans of the read paths' statements, on a seeded bench database.

    BENCH_DB=postgresql BENCH_POSTS=1000000 .venv/bin/python -m bench.seed
    BENCH_DB=postgresql BENCH_POSTS=1000000 .venv/bin/python -m bench.explain

Serves the hot read requests in-process (the app's own statements, captured as they are sent,
with their parameters), then asks the database how it runs each distinct statement:
`EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL, `EXPLAIN QUERY PLAN` and the best of five timed
runs on SQLite. Prints Markdown, for bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.settings import BenchSettings
from blog_api.config import Settings
from blog_api.main import create_app

API = "/api/v1"


async def _requests(client: httpx.AsyncClient, settings: BenchSettings) -> list[str]:
    """The paths to explain; a few are found by asking first (a cursor, an id, a slug)."""
    first = (await client.get(f"{API}/posts")).json()
    cursor = first["next_cursor"]
    for _ in range(9):  # the bench's cursor scenario reads the page after page 10
        cursor = (await client.get(f"{API}/posts", params={"cursor": cursor})).json()["next_cursor"]
    post = first["items"][0]
    user = (await client.get(f"{API}/users")).json()["items"][0]
    return [
        f"{API}/posts",
        f"{API}/posts?cursor={cursor}",
        f"{API}/posts?sort=title",
        f"{API}/posts?sort=published_at&per_page=50",
        f"{API}/posts?tag=python",
        f"{API}/posts?q=zeppelin",
        f"{API}/posts?page={max(1, settings.posts * 9 // 10 // 20 // 2)}",
        f"{API}/posts/{post['id']}",
        f"{API}/posts/by-slug/{post['slug']}",
        f"{API}/posts/{post['id']}/comments",
        f"{API}/tags",
        f"{API}/users",
        f"{API}/users/{user['id']}",
    ]


async def _explain(engine: AsyncEngine, sql: str, parameters: Any) -> tuple[list[str], float]:
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            result = await conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY ON) " + sql, parameters
            )
            lines = [row[0] for row in result]
            took = next(
                (float(line.split(":")[1].split()[0]) for line in lines if "Execution" in line),
                0.0,
            )
            return lines, took
        plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)
        # a step under another step is indented
        steps = [row._mapping for row in plan]
        lines = [f"{'  ' * (step['parent'] > 0)}{step['detail']}" for step in steps]
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            (await conn.exec_driver_sql(sql, parameters)).fetchall()
            best = min(best, time.perf_counter() - start)
        return lines, best * 1000


async def main() -> None:
    bench = BenchSettings.from_env()
    app = create_app(
        Settings(
            database_url=bench.database_url,
            environment="test",
            counter_fold_seconds=0,
            gc_tuning=False,
            log_level="warning",
        )
    )
    engine: AsyncEngine = app.state.engine
    seen: dict[str, Any] = {}
    current: list[str] = []

    def capture(_c: Any, _cur: Any, sql: str, parameters: Any, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT") and sql not in seen:
            seen[sql] = parameters
            current.append(sql)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        paths = await _requests(client, bench)
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        print(f"# Plans: {engine.dialect.name}, {bench.posts:,} posts\n")
        for path in paths:
            current.clear()
            response = await client.get(path)
            if response.status_code != 200:
                sys.exit(f"{path}: {response.status_code} {response.text}")
            print(f"## GET {path}\n")
            for sql in list(current):
                lines, took = await _explain(engine, sql, seen[sql])
                head = " ".join(sql.split())[:160]
                print(f"- `{head}...`: {took:.2f} ms\n\n```\n" + "\n".join(lines) + "\n```\n")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
