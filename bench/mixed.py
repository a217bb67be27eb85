"""Mixed writes: many clients creating posts with shared tags, publishing, editing, deleting.

Run as its own process, pinned to the client CPU:

    python -m bench.mixed PORT TOKEN SECONDS [CLIENTS]

Each client loops until SECONDS have passed: create a post (a draft or published, with three
tags of a small shared set, one of them new to this run), publish it when it is a draft, edit
its title and tags, delete it. The tags are listed in orders of their own. It prints one JSON
object: requests and their statuses per operation, 5xx in all, and the latencies (p50, p99)
of every write. Against the app only: the reference has no PATCH or DELETE.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Any

import httpx

from bench.settings import HOST

SHARED_TAGS = ("python", "databases", "performance", "web", "testing")
CONTENT = "Written by the mixed-write bench. " * 8


async def client(
    http: httpx.AsyncClient,
    number: int,
    deadline: float,
    label: str,
    statuses: dict[str, Counter[int]],
    latencies: list[float],
) -> None:
    async def call(op: str, method: str, path: str, body: Any = None) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await http.request(method, path, json=body)
        except httpx.HTTPError:
            statuses[op][0] += 1  # no answer at all
            return None
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[op][response.status_code] += 1
        return response

    loop = 0
    while time.perf_counter() < deadline:
        loop += 1
        fresh = f"mix-{label}-{loop % 4}"  # new tags, created by racing clients at once
        tags = [SHARED_TAGS[(number + loop) % 5], SHARED_TAGS[(number + 2 * loop) % 5], fresh]
        tags = tags[::-1] if (number + loop) % 2 else tags
        published = loop % 2 == 0
        body = {"title": f"Mixed {number}-{loop}", "content": CONTENT, "published": published,
                "tags": tags}  # fmt: skip
        created = await call("create", "POST", "/api/v1/posts", body)
        if created is None or created.status_code != 201:
            continue
        path = f"/api/v1/posts/{created.json()['id']}"
        if not published:
            await call("publish", "PATCH", path, {"published": True})
        edit = {"title": f"Mixed {number}-{loop}, edited", "tags": [*tags[1:], SHARED_TAGS[0]]}
        await call("edit", "PATCH", path, edit)
        await call("delete", "DELETE", path)


async def run(port: int, token: str, seconds: float, clients: int) -> dict[str, Any]:
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    label = f"{int(time.time())}"
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", headers=headers, limits=limits, timeout=60
    ) as http:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(client(http, n, deadline, label, statuses, latencies) for n in range(clients))
        )
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    total = sum(sum(c.values()) for c in statuses.values())
    return {
        "requests": total,
        "seconds": elapsed,
        "rps": total / elapsed if elapsed else 0.0,
        "errors_5xx": sum(n for c in statuses.values() for s, n in c.items() if s >= 500),
        "failed": sum(c.get(0, 0) for c in statuses.values()),
        "p50_ms": statistics.median(ordered) if ordered else 0.0,
        "p99_ms": ordered[int(len(ordered) * 0.99)] if ordered else 0.0,
        "statuses": {op: {str(s): n for s, n in sorted(c.items())} for op, c in statuses.items()},
    }


def main() -> None:
    port, token, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    print(json.dumps(asyncio.run(run(port, token, seconds, clients))))


if __name__ == "__main__":
    main()
