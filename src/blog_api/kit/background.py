"""Background work that runs once, whichever process runs it.

A `Job` is a name, an interval and a coroutine function. Every process that runs background
work (a web process unless BACKGROUND_IN_WEB=false, and `python -m blog_api worker`) runs a
`BackgroundRunner` over the same jobs; the database decides which process runs each turn.

Each job has a row in `background_jobs`: when its next turn is due (`due_at`) and, while a
process runs it, until when that process holds it (`lease_until`, `holder`). A turn is taken
by one UPDATE ... RETURNING that moves `due_at` on and takes the lease, WHERE the turn is due
and nobody holds a live lease: of several processes racing for it, exactly one gets the row
(PostgreSQL re-checks the WHERE on the row another UPDATE changed; SQLite has one writer at a
time). The lease is given back when the turn ends; a process that dies midway holds it only
until `lease_until`, then any other takes over. So a job runs at most once at a time and about
once per interval across all processes, and what it does must be safe to repeat after a crash
(an idempotent statement, or rows claimed in the same transaction as the work).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from blog_api.kit.db import Access, Base, UTCDateTime, transaction, utcnow
from blog_api.kit.repository import BaseRepository

logger = logging.getLogger(__name__)


class BackgroundJob(Base):
    """One job's turns: when the next is due, and who runs the current one until when."""

    __tablename__ = "background_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    holder: Mapped[str | None] = mapped_column(String(128), nullable=True)


@dataclass(frozen=True, slots=True)
class Job:
    """`run` every `every` seconds, in one process at a time. `lease`: how long a turn may
    take before another process may take the job over (a process that died midway). With
    `at_start`, a runner takes a turn as soon as it starts, whenever the next one is due (work
    that a stopped deployment left waiting, such as overdue scheduled posts), still never
    while another process holds the job."""

    name: str
    every: float
    run: Callable[[], Awaitable[object]]
    lease: float = 60.0
    at_start: bool = False


class JobRepository(BaseRepository[BackgroundJob]):
    model = BackgroundJob

    async def register(self, names: Sequence[str], now: datetime) -> None:
        """A row for each job that has none yet, due now (racing registrations leave one)."""
        rows = [{"name": name, "due_at": now} for name in sorted(names)]
        await self.session.execute(self.insert(BackgroundJob).values(rows).on_conflict_do_nothing())

    async def claim(self, job: Job, holder: str, now: datetime, *, due: bool = True) -> bool:
        """Take the job's turn for `holder`: true when this call got it. `due=False` takes it
        whenever it is due (a runner's first turn of an `at_start` job)."""
        free = or_(BackgroundJob.lease_until.is_(None), BackgroundJob.lease_until < now)
        stmt = (
            update(BackgroundJob)
            .where(BackgroundJob.name == job.name, free)
            .values(
                due_at=now + timedelta(seconds=job.every),
                lease_until=now + timedelta(seconds=job.lease),
                holder=holder,
            )
            .returning(BackgroundJob.name)
            .execution_options(synchronize_session=False)
        )
        if due:
            stmt = stmt.where(BackgroundJob.due_at <= now)
        return (await self.session.execute(stmt)).first() is not None

    async def release(self, name: str, holder: str) -> None:
        """Give the turn back: the job is free for the next due turn, in any process."""
        await self.session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.name == name, BackgroundJob.holder == holder)
            .values(lease_until=None, holder=None)
            .execution_options(synchronize_session=False)
        )


def _holder() -> str:
    """Who holds a lease: this process, by host and pid, plus a random part (pids repeat)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class BackgroundRunner:
    """Runs `jobs` on the database of `factory`, a turn whenever one is due and free."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], jobs: Sequence[Job], *, tick: float = 0
    ) -> None:
        if len({job.name for job in jobs}) != len(jobs):
            raise ValueError("background jobs need names of their own")
        self.factory = factory
        self.jobs = tuple(jobs)
        self.holder = _holder()
        # How often due turns are looked for: the shortest interval (turns are due no oftener).
        self.tick = tick or min((job.every for job in jobs), default=1.0)
        self._registered = False
        self._started: set[str] = set()
        self._failing: set[str] = set()

    async def run_forever(self) -> None:
        """Take due turns until cancelled. A failing turn (a database down, a bug) is logged
        once per run of failures and tried again at its next turn."""
        if not self.jobs:
            return
        while True:
            await self.run_due()
            await asyncio.sleep(self.tick)

    async def run_due(self) -> list[str]:
        """One look: run every job whose turn this process gets; their names."""
        ran = []
        for job in self.jobs:
            try:
                if await self._turn(job):
                    ran.append(job.name)
            except asyncio.CancelledError:
                raise
            except Exception:
                if job.name not in self._failing:
                    logger.warning("Background job %s failed; retrying quietly", job.name,
                                   exc_info=True)  # fmt: skip
                self._failing.add(job.name)
            else:
                if job.name in self._failing:
                    logger.info("Background job %s works again", job.name)
                self._failing.discard(job.name)
        return ran

    async def _turn(self, job: Job) -> bool:
        now = utcnow()
        async with transaction(self.factory, Access.WRITE) as session:
            jobs = JobRepository(session)
            if not self._registered:
                await jobs.register([j.name for j in self.jobs], now)
            at_start = job.at_start and job.name not in self._started
            claimed = await jobs.claim(job, self.holder, now, due=not at_start)
        # Once looked at, a job started: when another process held it, that one was running it.
        self._registered = True
        self._started.add(job.name)
        if not claimed:
            return False
        try:
            await job.run()
        finally:
            # Shielded: a runner cancelled midway (shutdown) still frees the job at once.
            await asyncio.shield(self._release(job.name))
        return True

    async def _release(self, name: str) -> None:
        try:
            async with transaction(self.factory, Access.WRITE) as session:
                await JobRepository(session).release(name, self.holder)
        except Exception:
            # The lease runs out on its own.
            logger.warning("Releasing background job %s failed", name, exc_info=True)
