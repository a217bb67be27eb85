"""How blog-api is served: the Uvicorn options of `python -m blog_api serve`."""

from __future__ import annotations

from typing import Any

from blog_api.config import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments `serve` gives `uvicorn.run`, beside the app and the workers."""
    trusted = settings.forwarded_allow_ips
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        # X-Forwarded-For and -Proto only from the proxies named: Uvicorn otherwise believes
        # them from 127.0.0.1, so any client on the host (or behind a proxy that passes the
        # header on) would choose the address its rate limits count.
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": list(trusted),
        "server_header": False,  # no `server: uvicorn` banner
    }
