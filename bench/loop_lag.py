"""A burst of logins while /health is probed: how long does bcrypt stall the event loop?

Run as its own process, pinned to the client CPU:

    python -m bench.loop_lag PORT USERNAME PASSWORD [LOGINS]

It opens LOGINS keep-alive connections, probes GET /health for a moment while the server is
idle, then sends every login at once and keeps probing (one probe in flight, one every ~5 ms)
until the last login has answered. It prints one JSON object: the /health latencies while idle
and during the burst, and how long the logins took. A tiny HTTP/1.1 client on asyncio streams
keeps the probe's own overhead out of the figures.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.settings import HOST

PROBE_INTERVAL = 0.005
IDLE_SECONDS = 0.5


@dataclass(slots=True)
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request, read its answer (Content-Length bodies only): status and body."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()


def _post_form(path: str, form: dict[str, str]) -> bytes:
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _probe(conn: Connection, until: asyncio.Event, latencies: list[float]) -> None:
    request = _get("/health")
    while not until.is_set():
        started = time.perf_counter()
        status, _ = await conn.request(request)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"/health answered {status}")
        latencies.append(elapsed * 1000)
        await asyncio.sleep(max(0.0, PROBE_INTERVAL - elapsed))


async def burst(port: int, username: str, password: str, logins: int) -> dict[str, Any]:
    probe = await Connection.open(port)
    clients = [await Connection.open(port) for _ in range(logins)]
    login = _post_form("/api/v1/auth/token", {"username": username, "password": password})
    try:
        idle: list[float] = []
        stop_idle = asyncio.Event()
        idle_task = asyncio.create_task(_probe(probe, stop_idle, idle))
        await asyncio.sleep(IDLE_SECONDS)
        stop_idle.set()
        await idle_task

        during: list[float] = []
        finished = asyncio.Event()
        probe_task = asyncio.create_task(_probe(probe, finished, during))
        started = time.perf_counter()
        answers = await asyncio.gather(*(c.request(login) for c in clients))
        took = time.perf_counter() - started
        finished.set()
        await probe_task
    finally:
        for conn in (probe, *clients):
            conn.close()
    failed = [status for status, _ in answers if status != 200]
    if failed:
        raise RuntimeError(f"{len(failed)} of {logins} logins failed: {failed[:3]}")
    return {
        "logins": logins,
        "logins_seconds": took,
        "idle_p50_ms": statistics.median(idle) if idle else 0.0,
        "idle_max_ms": max(idle, default=0.0),
        "probes": len(during),
        "lag_p50_ms": statistics.median(during) if during else 0.0,
        "lag_p99_ms": _percentile(during, 0.99),
        "lag_max_ms": max(during, default=0.0),
    }


def main(argv: list[str]) -> None:
    port, username, password = int(argv[0]), argv[1], argv[2]
    logins = int(argv[3]) if len(argv) > 3 else 16
    print(json.dumps(asyncio.run(burst(port, username, password, logins))))


if __name__ == "__main__":
    main(sys.argv[1:])
