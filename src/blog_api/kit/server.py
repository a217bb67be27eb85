"""How blog-api is served: the Uvicorn options of `python -m blog_api serve`, and the HTTP
protocol they name, Uvicorn's httptools protocol with a cap on the request line and headers.

Uvicorn holds a request's line and headers whole before the app sees any of it, with no limit
of its own under httptools: one 64 MiB header was read, parsed and answered. `HttpProtocol`
never gives the parser more than `MAX_REQUEST_HEADER_BYTES` without a sign of progress that
bounds what it holds: the end of the request line and headers, a piece of the body, a chunk
boundary. So the request line and headers count whole, and so do a chunked body's trailers
(header fields the parser buffers the same way); a body's data never counts (the app caps
bodies, MAX_REQUEST_BODY_BYTES). Past the cap the answer is a 431 problem and the connection
closes.

A client also has `REQUEST_HEAD_TIMEOUT` seconds (default 20) to send a request's line and
headers, counted from its connection or the request's first byte: a connection that sends
nothing, or a head a byte at a time (slowloris), is answered 408 and closed, rather than held
open for as long as the client likes. Uvicorn's keep-alive timeout covers only the quiet
between two requests. The app's lifespan hands the setting over (its state, which Uvicorn
gives every connection); without it, the default holds.

For `uvicorn blog_api.main:app` directly, pass `--http blog_api.kit.server:HttpProtocol`; the cap
is then `--h11-max-incomplete-event-size` when given (the option that sets the same cap for
Uvicorn's h11 protocol), else `MAX_REQUEST_HEADER_BYTES`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from blog_api.config import Settings, get_settings
from blog_api.kit.middleware import new_request_id
from blog_api.kit.problems import problem

# Data is handed to the parser in pieces of at most an eighth of the cap, and a piece in which
# the parser made progress counts whole: a request head that starts inside a piece (pipelined
# after another request) may be refused up to an eighth short of the cap. Every other head is
# counted to the byte.
_PIECES_PER_CAP = 8
_MIN_PIECE = 256
# After a 431, what the client still sends is read and dropped, so that closing does not
# reset the connection before the client has read the answer: at most this much, this long.
_DISCARD_BYTES = 1024 * 1024
_LINGER_SECONDS = 2.0
# The key of the head timeout in the app's lifespan state (see main.create_app).
HEAD_TIMEOUT_STATE = "blog_api.request_head_timeout"
DEFAULT_HEAD_TIMEOUT = 20.0


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments `serve` gives `uvicorn.run`, beside the app and the workers."""
    trusted = settings.forwarded_allow_ips
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "http": f"{__name__}:{HttpProtocol.__name__}",
        "h11_max_incomplete_event_size": settings.max_request_header_bytes,
        # X-Forwarded-For and -Proto only from the proxies named: Uvicorn otherwise believes
        # them from 127.0.0.1, so any client on the host (or behind a proxy that passes the
        # header on) would choose the address its rate limits count.
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": list(trusted),
        "server_header": False,  # no `server: uvicorn` banner
    }


class HttpProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, refusing a request line and headers (or a chunked body's
    trailers) over a cap with a 431 problem, before more of them is buffered."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        cap = config.h11_max_incomplete_event_size
        self.max_head_bytes = cap if cap is not None else get_settings().max_request_header_bytes
        self._piece = max(_MIN_PIECE, self.max_head_bytes // _PIECES_PER_CAP)
        # Bytes given to the parser since it last showed progress, and whether it did during
        # the piece being parsed; whether a request head is being read (else a body).
        self._unparsed = 0
        self._progressed = False
        self._in_head = True
        self._refused = False
        self._answer_pending = False
        self._discarded = 0
        self._linger: asyncio.TimerHandle | None = None
        self.head_timeout = float(app_state.get(HEAD_TIMEOUT_STATE, DEFAULT_HEAD_TIMEOUT))
        self._head_clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_clock()

    # Parser callbacks: the events that end what the parser holds.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._progressed = self._in_head = True
        if self._head_clock is None:
            self._start_head_clock()

    def on_headers_complete(self) -> None:
        self._progressed, self._in_head = True, False
        self._stop_head_clock()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._progressed = True
        super().on_body(body)

    def on_chunk_header(self) -> None:
        self._progressed = True

    def on_chunk_complete(self) -> None:
        self._progressed = True

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._progressed = self._in_head = True

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._discard(len(data))
            return
        start = 0
        while start < len(data):
            room = self.max_head_bytes - self._unparsed
            if room <= 0:
                self._refuse()
                self._discard(len(data) - start)
                return
            piece = data[start : start + min(room, self._piece)]  # `data` when it fits whole
            start += len(piece)
            self._progressed = False
            super().data_received(piece)
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return  # an invalid request answered, or an upgrade to another protocol
            self._unparsed = len(piece) if self._progressed else self._unparsed + len(piece)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self._stop_head_clock()
        super().connection_lost(exc)

    def _start_head_clock(self) -> None:
        self._stop_head_clock()
        self._head_clock = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _stop_head_clock(self) -> None:
        if self._head_clock is not None:
            self._head_clock.cancel()
            self._head_clock = None

    def _head_too_slow(self) -> None:
        """No whole request line and headers in time: a 408, or, while an earlier request of
        the connection is still being answered, just the close."""
        self._head_clock = None
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        prefix = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
        self.logger.info(
            "%sNo request line and headers in %g s: answered 408", prefix, self.head_timeout
        )
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            detail = f"The request line and headers did not arrive within {self.head_timeout:g} s"
            self._answer(408, detail)
        else:
            self.transport.close()

    def _refuse(self) -> None:
        self._refused = True
        what = "Request line and headers" if self._in_head else "Chunk line or trailers"
        prefix = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
        self.logger.warning("%s%s over %d bytes: answered 431", prefix, what, self.max_head_bytes)
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            self._answer_431()
        elif self._in_head:
            # Requests before this one (pipelined) are answered first, in order.
            self._answer_pending = True
        elif cycle.response_started or self.pipeline:
            # The app answers this request already, or it waits behind another one.
            self.transport.close()
        else:
            # The request whose trailers these are: the app sees the client go, and the
            # client gets the 431.
            cycle.disconnected = True
            cycle.message_event.set()
            self._answer_431()

    def on_response_complete(self) -> None:
        if self._answer_pending and not self.pipeline and not self.transport.is_closing():
            self._answer_pending = False
            self.server_state.total_requests += 1
            self.flow.resume_reading()
            self._answer_431()
            return
        super().on_response_complete()

    def _answer_431(self) -> None:
        what = "request line and headers are" if self._in_head else "chunk line or trailers are"
        self._answer(431, f"The {what} larger than {self.max_head_bytes} bytes")

    def _answer(self, status: int, detail: str) -> None:
        """A problem, then a half-close; what the client still sends is dropped a while."""
        self.transport.write(self._problem(status, detail))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._linger = self.loop.call_later(_LINGER_SECONDS, self.transport.close)

    def _discard(self, size: int) -> None:
        self._discarded += size
        if self._discarded > _DISCARD_BYTES and not self.transport.is_closing():
            self.transport.close()

    def _problem(self, status: int, detail: str) -> bytes:
        response = problem(status, detail)
        headers = [
            *self.server_state.default_headers,
            *response.raw_headers,
            (b"x-content-type-options", b"nosniff"),
            (b"x-request-id", new_request_id().encode("ascii")),
            (b"connection", b"close"),
        ]
        lines = [STATUS_LINE[status], *(name + b": " + value + b"\r\n" for name, value in headers)]
        return b"".join([*lines, b"\r\n", response.body])
