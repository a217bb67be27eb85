"""CPU per request, in-process: the app's own cost of one request, without sockets or wrk.

    BENCH_DB=sqlite BENCH_POSTS=10000 .venv/bin/python -m bench.seed
    BENCH_DB=sqlite BENCH_POSTS=10000 .venv/bin/python -m bench.cpu /api/v1/posts/{id} ...

Calls the ASGI app directly (a scope, a receive, a send; no HTTP server, no client library)
with CPU_CONCURRENCY requests in flight (default 32, as the bench's wrk), CPU_REQUESTS of them
per round (default 2000), CPU_ROUNDS rounds (default 5), and prints the CPU time of the whole
process (the driver's threads included) per request for each round, then the median. `{id}`
in a path becomes one of the first 1000 published posts' ids, a different one each request.
Much steadier than HTTP runs on a shared machine, as it counts CPU, not wall time: use it to
compare two versions of the code (PYTHONPATH=<other checkout>/src for the other one).
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

from bench.settings import BenchSettings
from blog_api.config import Settings
from blog_api.main import create_app, tune_garbage_collector


async def _call(app: Any, path: str) -> int:
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _worker(app: Any, queue: Iterator[str]) -> None:
    for path in queue:  # the workers share one iterator: each path is served once
        await _call(app, path)


async def _ids(app: Any) -> list[int]:
    from sqlalchemy import text

    async with app.state.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id FROM posts WHERE published_at IS NOT NULL ORDER BY id LIMIT 1000")
        )
        return [row[0] for row in rows]


async def main(paths: list[str]) -> None:
    bench = BenchSettings.from_env()
    concurrency = int(os.environ.get("CPU_CONCURRENCY", 32))
    per_round = int(os.environ.get("CPU_REQUESTS", 2000))
    rounds = int(os.environ.get("CPU_ROUNDS", 5))
    settings = Settings(
        database_url=bench.database_url,
        environment="production",
        secret_key="x" * 48,
        allowed_hosts=["127.0.0.1"],
        log_level="warning",
    )
    app = create_app(settings)
    ids = await _ids(app)
    tune_garbage_collector()
    for path in paths:
        expanded = [path.replace("{id}", str(ids[i % len(ids)])) for i in range(per_round)]
        if (status := await _call(app, expanded[0])) != 200:
            sys.exit(f"{expanded[0]}: {status}")
        results = []
        for _ in range(rounds + 1):  # the first round warms up
            queue = iter(expanded)
            gc.collect()
            start = time.process_time()
            await asyncio.gather(*(_worker(app, queue) for _ in range(concurrency)))
            results.append((time.process_time() - start) / per_round * 1e6)
        runs = ", ".join(f"{us:.0f}" for us in results[1:])
        print(f"{path}: {statistics.median(results[1:]):.0f} us CPU a request ({runs})")
    await app.state.engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    import uvloop  # as Uvicorn serves the app (the bench extras install it)

    uvloop.run(main(sys.argv[1:]))
