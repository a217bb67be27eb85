"""Keeping the counters cheap to read: folds, in short transactions of their own (a
background job: see blog_api/main.py's background_jobs)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api.counters.repository import FOLD_BATCH, CounterRepository
from blog_api.kit.db import Access, transaction


async def fold_counters(factory: async_sessionmaker[AsyncSession], batch: int = FOLD_BATCH) -> int:
    """Fold every pending counter change, a batch per transaction; how many were folded."""
    folded = 0
    while True:
        async with transaction(factory, Access.WRITE) as session:
            n = await CounterRepository(session).fold(batch)
        folded += n
        if n < batch:
            return folded
