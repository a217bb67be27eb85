"""Password hashing: bcrypt through the passlib API, always off the event loop."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from passlib.context import CryptContext

from blog_api.kit.rules import hashable

T = TypeVar("T")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. under taskset or a container)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class PasswordHasher:
    """bcrypt through the passlib API; every call runs in a worker thread.

    A 12-round bcrypt takes about a quarter of a second: run on the event loop it would stall
    every other request for that long. At most `max_concurrency` hashes run at once (by
    default one per usable CPU): a burst of logins then queues instead of starting a thread
    each, which would crowd the event loop off its CPU without finishing any sooner.
    """

    def __init__(self, rounds: int, max_concurrency: int | None = None) -> None:
        self._context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        self._dummy_hash: str | None = None
        self._max_concurrency = max_concurrency or usable_cpus()
        self._limiter: anyio.CapacityLimiter | None = None

    async def _run(self, func: Callable[..., T], *args: str) -> T:
        if self._limiter is None:  # made on first use, inside the running event loop
            self._limiter = anyio.CapacityLimiter(self._max_concurrency)
        return await anyio.to_thread.run_sync(func, *args, limiter=self._limiter)

    async def hash(self, password: str) -> str:
        result: str = await self._run(self._context.hash, password)
        return result

    async def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """Check `password`; also return a new hash when `hashed` uses outdated settings.

        A secret bcrypt cannot take (over 72 bytes, or with a NUL) is simply wrong, after the
        time a real check takes.
        """
        if not hashable(password):
            await self.dummy_verify(password)
            return False, None
        result: tuple[bool, str | None] = await self._run(
            self._context.verify_and_update, password, hashed
        )
        return result

    async def dummy_verify(self, password: str) -> None:
        """Spend the time a real check takes, so timing does not tell which accounts exist."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("blog-api-dummy-password")
        secret = password if hashable(password) else "blog-api-unusable-password"
        await self._run(self._context.verify, secret, self._dummy_hash)
