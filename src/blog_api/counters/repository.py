"""Counts: every count blog-api shows is the sum of its rows in counter_deltas.

Database triggers append a signed row per change (see models.CounterDelta and the migration).
A read is `counter_value(...)`, a scalar subquery to put in any SELECT (one index range scan
over a handful of rows); `CounterRepository.fold` keeps that handful small.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import (
    ScalarSelect,
    Subquery,
    delete,
    func,
    insert,
    select,
    tuple_,
)
from sqlalchemy.sql.elements import SQLCoreOperations

from blog_api.kit.repository import BaseRepository
from blog_api.models import Counter, CounterDelta

# PostgreSQL advisory lock key that keeps folds from queueing behind each other.
_FOLD_LOCK = 0x626C6F67  # "blog"
FOLD_BATCH = 10_000


def counter_value(name: Counter, key: SQLCoreOperations[int] | int) -> ScalarSelect[int]:
    """The counter `name` at `key` (a column, for one value per row of a SELECT, or an id):
    exact as of the statement's snapshot, 0 when the counter has no rows."""
    return (
        select(func.coalesce(func.sum(CounterDelta.delta), 0))
        .where(CounterDelta.name == name.value, CounterDelta.key == key)
        .scalar_subquery()
    )


def counter_totals(name: Counter) -> Subquery:
    """Every key of counter `name` with its value, as a subquery with columns `key`, `value`
    (keys whose value is 0 included)."""
    return (
        select(CounterDelta.key.label("key"), func.sum(CounterDelta.delta).label("value"))
        .where(CounterDelta.name == name.value)
        .group_by(CounterDelta.key)
        .subquery()
    )


class CounterRepository(BaseRepository[CounterDelta]):
    model = CounterDelta

    async def fold(self, batch: int = FOLD_BATCH) -> int:
        """Replace the rows of up to `batch` counters that have pending changes by one row each
        (their sum; none when it is 0). Returns how many pending rows it folded: `batch` or
        more when there may be more to fold.

        Safe to race with writers and with other folds: writers only insert, and a row goes
        into exactly one sum, the one of the DELETE ... RETURNING that removed it (a fold that
        started later does not see it). On PostgreSQL a fold that finds another one running
        returns at once instead of queueing behind it. Run it in a short transaction of its own.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            locked = await self.session.scalar(select(func.pg_try_advisory_xact_lock(_FOLD_LOCK)))
            if not locked:
                return 0
        pending = (
            select(CounterDelta.name, CounterDelta.key)
            .where(CounterDelta.pending.is_(True))
            .order_by(CounterDelta.id)
            .limit(batch)
        )
        gone = (
            await self.session.execute(
                delete(CounterDelta)
                .where(tuple_(CounterDelta.name, CounterDelta.key).in_(pending))
                .returning(
                    CounterDelta.name, CounterDelta.key, CounterDelta.delta, CounterDelta.pending
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
        sums: dict[tuple[str, int], int] = defaultdict(int)
        for name, key, delta, _ in gone:
            sums[name, key] += delta
        rows = [
            {"name": name, "key": key, "delta": total, "pending": False}
            for (name, key), total in sorted(sums.items())
            if total != 0
        ]
        if rows:
            await self.session.execute(insert(CounterDelta), rows)
        return sum(1 for row in gone if row.pending)
