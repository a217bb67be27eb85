"""A client has REQUEST_HEAD_TIMEOUT seconds to send a request's line and headers, over real
sockets on 127.0.0.1 with the protocol `python -m blog_api serve` runs: a connection that
sends nothing, or a head a byte at a time (slowloris), is answered 408 and closed; a head that
arrives in pieces within the time is served."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI

from blog_api.config import Settings
from blog_api.kit.server import uvicorn_options
from blog_api.main import create_app

TIMEOUT = 0.5


@pytest.fixture
async def port(settings: Settings, app: FastAPI) -> AsyncIterator[int]:
    """A Uvicorn server on a free port, configured as `serve` configures it, whose clients have
    TIMEOUT seconds to send a request head."""
    configured = settings.model_copy(update={"request_head_timeout": TIMEOUT})
    application = create_app(configured)
    config = uvicorn.Config(application, **uvicorn_options(configured), log_config=None)
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.01)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()
        await application.state.engine.dispose()


async def read_all(reader: asyncio.StreamReader, within: float) -> bytes:
    """What the server sends until it closes the connection (within `within` s); a reset
    after the answer (the client went on writing into a closed connection) ends it too."""
    received = b""
    async with asyncio.timeout(within):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionError:
                return received
            if not chunk:
                return received
            received += chunk


def assert_408(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 408
    assert f"{TIMEOUT:g} s" in problem["detail"]


async def test_a_connection_that_sends_nothing_is_closed_with_a_408(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    answer = await read_all(reader, within=10 * TIMEOUT)
    assert time.monotonic() - started >= TIMEOUT * 0.9
    assert_408(answer)
    writer.close()


async def test_a_head_sent_a_byte_at_a_time_is_cut_off(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000

    async def trickle() -> None:
        for byte in head:  # 50 bytes a second: far under any cap, far over the time
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.02)

    sending = asyncio.create_task(trickle())
    started = time.monotonic()
    answer = await read_all(reader, within=10 * TIMEOUT)
    assert time.monotonic() - started < 5 * TIMEOUT
    assert not sending.done() or sending.exception() is not None
    sending.cancel()
    assert_408(answer)
    writer.close()


async def test_a_head_in_pieces_within_the_time_is_served_and_the_clock_restarts(
    port: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(3):  # three requests on one connection, each head in three pieces
        for piece in (b"GET /health HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(TIMEOUT / 4)
        status = await asyncio.wait_for(reader.readline(), 5)
        assert status.startswith(b"HTTP/1.1 200 "), status
        length = 0
        while (line := await asyncio.wait_for(reader.readline(), 5)) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
    writer.close()
