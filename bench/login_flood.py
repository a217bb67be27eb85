"""How a login flood at one account delays everybody else's logins, with and without the
rate limits.

    .venv/bin/python -m bench.login_flood        # FLOOD_SECONDS=20, FLOOD_CLIENTS=32

Serves the app (SQLite, real 12-round bcrypt, one worker) twice: with every rate limit off,
then with the defaults. Each time, FLOOD_CLIENTS clients guess one account's password as fast
as they can, from 127.0.0.1, while one other user logs in again and again from 127.0.0.2; it
prints the median and 95th percentile of that user's login time and what the flood got back.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "flood password 1"
LIMITS = (
    "LOGIN_ATTEMPTS_PER_ADDRESS",
    "LOGIN_FAILURES_PER_ACCOUNT",
    "REGISTRATIONS_PER_ADDRESS",
    "PASSWORD_CHANGES_PER_ACCOUNT",
)


async def run(limited: bool, seconds: float, clients: int, port: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="blog_api_flood_"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", *LIMITS))},
        "ENVIRONMENT": "test",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{workdir / 'flood.db'}",
        "BCRYPT_ROUNDS": "12",
        "PYTHONPATH": str(ROOT / "src"),
    }
    if not limited:
        env.update(dict.fromkeys(LIMITS, "0"))
    subprocess.run(  # noqa: ASYNC221 (before anything else runs)
        [BIN / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    app = subprocess.Popen(  # noqa: ASYNC220 (started once, stopped below)
        [BIN / "uvicorn", "blog_api.main:app", "--port", str(port), "--log-level", "warning"],
        cwd=workdir,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            for name in ("victim", "bystander"):
                body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
                (await client.post("/api/v1/users", json=body)).raise_for_status()
            deadline = time.monotonic() + seconds
            flood = Counter[int]()
            waits: list[float] = []

            async def guess() -> None:
                while time.monotonic() < deadline:
                    form = {"username": "victim", "password": secrets.token_hex(8)}
                    flood[(await client.post("/api/v1/auth/token", data=form)).status_code] += 1

            # The bystander calls from another address (127.0.0.2): the flood's address is
            # rate-limited too, and so would be anybody sharing it.
            other = httpx.AsyncHTTPTransport(local_address="127.0.0.2")

            async def bystander() -> None:
                async with httpx.AsyncClient(base_url=base, timeout=60, transport=other) as own:
                    while time.monotonic() < deadline:
                        started = time.perf_counter()
                        form = {"username": "bystander", "password": PASSWORD}
                        answer = await own.post("/api/v1/auth/token", data=form)
                        answer.raise_for_status()
                        waits.append(time.perf_counter() - started)
                        await asyncio.sleep(0.2)

            await asyncio.gather(bystander(), *(guess() for _ in range(clients)))
    finally:
        app.terminate()
        app.wait(timeout=30)
    waits.sort()
    p95 = waits[int(len(waits) * 0.95) - 1] if len(waits) >= 20 else waits[-1]
    print(
        f"{'limits on ' if limited else 'limits off'}: bystander logins {len(waits)}, "
        f"median {statistics.median(waits) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; "
        f"flood answers {dict(sorted(flood.items()))}",
        flush=True,
    )


def main() -> int:
    seconds = float(os.environ.get("FLOOD_SECONDS", "20"))
    clients = int(os.environ.get("FLOOD_CLIENTS", "32"))
    port = int(os.environ.get("FLOOD_PORT", "18230"))
    asyncio.run(run(False, seconds, clients, port))
    asyncio.run(run(True, seconds, clients, port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
