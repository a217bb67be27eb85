"""Rate limits on what costs a bcrypt: logins, registrations, password changes.

The algorithm and the storage come from the `limits` library: a sliding window (two
counters per key, weighted by how far into the window we are), kept in Redis
when `REDIS_URL` is set (every worker and machine then shares the counts) and in this process's
memory otherwise. A limit of 0 turns that limit off.

Each check happens before the password is hashed, and counts the attempt at once: a burst of
32 simultaneous guesses at one account spends at most the limit's worth of bcrypt, the rest
are refused in microseconds, and every other user's login goes on at its usual speed.

When Redis cannot be reached, the limits go on in this process's memory (each worker counts
for itself, which still bounds a brute force) rather than lapsing, and Redis is tried again
after a back-off (1 s, doubling to 30 s) rather than on every request: a Redis that does not
answer would otherwise cost every login its connect timeout. The outage is logged once as it
starts and once as it ends.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from blog_api.kit.errors import RateLimitedError

logger = logging.getLogger("blog_api.kit.ratelimit")

# Seconds before Redis is tried again after a failure: the first, and the most.
RETRY_FIRST = 1.0
RETRY_MOST = 30.0


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """The limits, as Settings has them (their defaults are there, with the environment's
    names): each a number of attempts per window, 0 for none."""

    login_failures_per_account: int  # per 15 minutes
    login_attempts_per_address: int  # per minute
    registrations_per_address: int  # per hour
    password_changes_per_account: int  # per hour
    redis_url: str | None
    key_prefix: str


def _storage(settings: RateLimitSettings) -> Storage:
    if not settings.redis_url:
        return MemoryStorage()
    url = settings.redis_url
    if not url.startswith("async+"):
        url = f"async+{url}"
    return RedisStorage(
        url,
        implementation="redispy",
        key_prefix=settings.key_prefix,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
    )


def _item(amount: int, per_hour: bool, multiples: int = 1) -> RateLimitItem | None:
    if amount <= 0:
        return None
    cls = RateLimitItemPerHour if per_hour else RateLimitItemPerMinute
    return cls(amount, multiples)


class RateLimiter:
    def __init__(self, settings: RateLimitSettings) -> None:
        self.storage = _storage(settings)
        self._window = SlidingWindowCounterRateLimiter(self.storage)
        # Where the counts go while a shared storage is away (None: the storage is memory).
        self._fallback = (
            None
            if isinstance(self.storage, MemoryStorage)
            else SlidingWindowCounterRateLimiter(MemoryStorage())
        )
        self._retry_at = 0.0  # time.monotonic() before which the storage is not tried
        self._retry_after = RETRY_FIRST
        self._login_account = _item(settings.login_failures_per_account, False, 15)
        self._login_address = _item(settings.login_attempts_per_address, False)
        self._registration = _item(settings.registrations_per_address, True)
        self._password_change = _item(settings.password_changes_per_account, True)
        # Whether the storage answered last time: an outage is logged once as it starts and
        # once as it ends, not once per request.
        self._storage_answers = True

    async def login_from(self, address: str) -> None:
        """Before a login: every attempt from `address` counts."""
        await self._hit(
            self._login_address, "Too many login attempts from this address", "la", address
        )

    async def login_attempt(self, account: str) -> None:
        """Before a login's bcrypt: the attempt counts as a failure of `account` until
        `login_succeeded` starts the count afresh."""
        await self._hit(
            self._login_account,
            "Too many failed logins for this account; try again later",
            "lf",
            account,
        )

    async def login_succeeded(self, account: str) -> None:
        if self._login_account is None:
            return
        for window in self._windows():
            try:
                await window.clear(self._login_account, "lf", account)
            except Exception as exc:
                self._storage_failed(exc)
                continue
            self._storage_answered(window)
            return

    async def registration(self, address: str) -> None:
        await self._hit(
            self._registration, "Too many registrations from this address", "rg", address
        )

    async def password_change(self, user_id: int) -> None:
        await self._hit(
            self._password_change, "Too many password changes for this account", "pw", str(user_id)
        )

    async def _hit(self, item: RateLimitItem | None, detail: str, *key: str) -> None:
        if item is None:
            return
        for window in self._windows():
            try:
                allowed = await window.hit(item, *key)
                stats = None if allowed else await window.get_window_stats(item, *key)
            except Exception as exc:
                self._storage_failed(exc)
                continue
            self._storage_answered(window)
            if stats is None:
                return
            retry_after = math.ceil(stats.reset_time - time.time())
            raise RateLimitedError(detail, retry_after=retry_after)
        # Neither answered (memory does not fail): rate limits protect the CPU, and must not
        # lock everybody out.

    def _windows(self) -> list[SlidingWindowCounterRateLimiter]:
        """Where to count, in order: the storage, unless it failed and its back-off runs;
        then this process's memory, while it is away."""
        if self._fallback is None:
            return [self._window]
        if self._storage_answers or time.monotonic() >= self._retry_at:
            return [self._window, self._fallback]
        return [self._fallback]

    def _storage_failed(self, exc: Exception) -> None:
        """Back off, and one warning as an outage starts (the error in one line, no
        traceback): while the storage is away every request would fail the same way."""
        if self._storage_answers:
            self._storage_answers = False
            self._retry_after = RETRY_FIRST
            logger.warning(
                "rate limit storage unavailable (%s: %s); counting in this process's memory "
                "until it answers again",
                type(exc).__name__,
                exc,
            )
        else:
            self._retry_after = min(self._retry_after * 2, RETRY_MOST)
        self._retry_at = time.monotonic() + self._retry_after

    def _storage_answered(self, window: SlidingWindowCounterRateLimiter) -> None:
        if window is self._window and not self._storage_answers:
            self._storage_answers = True
            logger.warning("rate limit storage answers again; the shared limits apply again")
