"""Keeping the counters cheap to read: folds, in short transactions of their own."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api.counters.repository import FOLD_BATCH, CounterRepository
from blog_api.kit.db import Access, transaction

logger = logging.getLogger(__name__)


async def fold_counters(factory: async_sessionmaker[AsyncSession], batch: int = FOLD_BATCH) -> int:
    """Fold every pending counter change, a batch per transaction; how many were folded."""
    folded = 0
    while True:
        async with transaction(factory, Access.WRITE) as session:
            n = await CounterRepository(session).fold(batch)
        folded += n
        if n < batch:
            return folded


async def fold_counters_forever(factory: async_sessionmaker[AsyncSession], interval: float) -> None:
    """Fold every `interval` seconds until cancelled. A failed fold (a database that is down
    or read-only) is logged once per run of failures and retried at the next tick: counts stay
    exact without folds, they only cost more to read."""
    failing = False
    while True:
        await asyncio.sleep(interval)
        try:
            await fold_counters(factory)
        except asyncio.CancelledError:
            raise
        except Exception:
            if not failing:
                logger.warning("Folding the counters failed; retrying quietly", exc_info=True)
            failing = True
        else:
            if failing:
                logger.info("Folding the counters works again")
            failing = False
