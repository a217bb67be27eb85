"""Background work runs once, whichever process runs it (kit/background.py): turns taken by
one process at a time, two served processes publishing a scheduled post once, and
BACKGROUND_IN_WEB=false leaving it to `python -m blog_api worker`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from blog_api.kit.background import BackgroundJob, BackgroundRunner, Job
from blog_api.kit.db import Access, transaction
from blog_api.models import Counter, CounterDelta, Post
from tests.helpers.api import API
from tests.helpers.counts import assert_counts_exact
from tests.helpers.factories import UserFactory
from tests.helpers.project import ROOT, free_port

# --- the mechanism


async def test_a_turn_runs_in_one_runner_of_many_and_once_per_interval(app: FastAPI) -> None:
    runs: list[str] = []

    def job(every: float) -> Job:
        async def run() -> None:
            runs.append("ran")
            await asyncio.sleep(0.05)  # the others look while it runs

        return Job("counting", every, run)

    runners = [BackgroundRunner(app.state.session_factory, [job(0.5)]) for _ in range(4)]
    ran = await asyncio.gather(*(r.run_due() for r in runners))
    assert sorted(len(names) for names in ran) == [0, 0, 0, 1]
    assert runs == ["ran"]
    # Not due again before its interval, in any of them.
    assert [await r.run_due() for r in runners] == [[], [], [], []]
    await asyncio.sleep(0.5)
    ran = await asyncio.gather(*(r.run_due() for r in runners))
    assert sorted(len(names) for names in ran) == [0, 0, 0, 1]
    assert runs == ["ran", "ran"]


async def test_a_job_held_by_a_process_that_died_is_taken_over_when_its_lease_ends(
    app: FastAPI,
) -> None:
    runs: list[int] = []

    async def run() -> None:
        runs.append(1)

    job = Job("leased", 0.1, run, lease=1)
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        session.add(
            BackgroundJob(
                name="leased",
                due_at=datetime.now(UTC),
                lease_until=datetime.now(UTC) + timedelta(seconds=1),
                holder="a process that died",
            )
        )
    runner = BackgroundRunner(app.state.session_factory, [job])
    assert await runner.run_due() == []
    await asyncio.sleep(1.05)
    assert await runner.run_due() == ["leased"]
    assert runs == [1]
    async with app.state.session_factory() as session:
        row = await session.get(BackgroundJob, "leased")
    assert row is not None
    assert (row.lease_until, row.holder) == (None, None)  # given back once done


async def test_a_failing_job_is_logged_once_and_does_not_stop_the_others(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[str] = []

    async def broken() -> None:
        raise RuntimeError("broken job")

    async def fine() -> None:
        done.append("fine")

    runner = BackgroundRunner(
        app.state.session_factory, [Job("broken", 0.01, broken), Job("fine", 0.01, fine)]
    )
    for _ in range(3):
        assert await runner.run_due() == ["fine"]
        await asyncio.sleep(0.02)
    assert done == ["fine"] * 3
    assert [r.message for r in caplog.records].count(
        "Background job broken failed; retrying quietly"
    ) == 1
    async with app.state.session_factory() as session:
        row = await session.get(BackgroundJob, "broken")
    assert row is not None
    assert row.lease_until is None  # a failed turn frees the job too


# --- served processes


def _env(database_url: str, **extra: str) -> dict[str, str]:
    variables = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "WORKERS"}}
    return {
        **variables,
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT / "src"),
        "LOG_LEVEL": "warning",
        "COUNTER_FOLD_SECONDS": "0",  # the ledger keeps one row per change: counted below
        "PUBLISH_SCHEDULED_SECONDS": "0.2",
        **extra,
    }


@contextlib.contextmanager
def _process(tmp_path: Path, name: str, env: dict[str, str], *command: str) -> Iterator[str]:
    """`python -m blog_api <command>` running in `tmp_path` (no .env there); its log file."""
    log = tmp_path / f"{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "blog_api", *command],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield str(log)
        assert process.poll() is None, log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def _server(tmp_path: Path, database_url: str, **env: str) -> Iterator[str]:
    """`python -m blog_api serve` on a free port; its URL once it answers."""
    port = free_port()
    with _process(tmp_path, f"serve-{port}", _env(database_url, PORT=str(port), **env), "serve"):
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield url


async def _scheduled_post(
    client: AsyncClient, headers: dict[str, str], seconds: float
) -> tuple[int, datetime]:
    instant = datetime.now(UTC) + timedelta(seconds=seconds)
    response = await client.post(
        f"{API}/posts",
        json={
            "title": "Soon",
            "content": "c",
            "status": "scheduled",
            "published_at": instant.isoformat(),
            "tags": ["soon"],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    post_id: int = response.json()["id"]
    return post_id, instant


async def _status(app: FastAPI, post_id: int) -> Any:
    async with app.state.session_factory() as session:
        return await session.scalar(select(Post.status).where(Post.id == post_id))


async def _published_within(app: FastAPI, post_id: int, instant: datetime, seconds: float) -> None:
    deadline = instant + timedelta(seconds=seconds)
    while await _status(app, post_id) != "published":
        assert datetime.now(UTC) < deadline, f"not published {seconds} s after its instant"
        await asyncio.sleep(0.05)


async def test_two_served_processes_publish_a_scheduled_post_once_within_5_seconds(
    app: FastAPI,
    database_url: str,
    client: AsyncClient,
    make_user: UserFactory,
    tmp_path: Path,
) -> None:
    author = await make_user("author")
    with (
        _server(tmp_path, database_url) as first,
        _server(tmp_path, database_url) as second,
    ):
        post_id, instant = await _scheduled_post(client, author["headers"], 2)
        async with httpx.AsyncClient() as http:
            for url in (first, second):
                assert (await http.get(f"{url}{API}/posts/{post_id}")).status_code == 404
            await _published_within(app, post_id, instant, 5)
            for url in (first, second):
                assert (await http.get(f"{url}{API}/posts")).json()["total"] == 1
                assert (await http.get(f"{url}{API}/tags")).json()["items"] == [
                    {"name": "soon", "post_count": 1}
                ]
        async with app.state.session_factory() as session:
            rows = await session.scalars(
                select(CounterDelta.delta).where(CounterDelta.name == Counter.PUBLISHED_POSTS.value)
            )
            assert list(rows) == [1]  # +1 once, not +2
    counts = await assert_counts_exact(app)
    assert counts[Counter.PUBLISHED_POSTS.value, 0] == 1


async def test_background_in_web_false_leaves_publishing_to_the_worker(
    app: FastAPI,
    database_url: str,
    client: AsyncClient,
    make_user: UserFactory,
    tmp_path: Path,
) -> None:
    author = await make_user("author")
    with _server(tmp_path, database_url, BACKGROUND_IN_WEB="false") as web:
        post_id, _ = await _scheduled_post(client, author["headers"], 0.5)
        await asyncio.sleep(2.5)
        assert await _status(app, post_id) == "scheduled"
        http = httpx.AsyncClient(base_url=web)
        assert (await http.get(f"{API}/posts/{post_id}")).status_code == 404
        async with app.state.session_factory() as session:
            assert await session.scalar(select(func.count()).select_from(BackgroundJob)) == 0
        with _process(tmp_path, "worker", _env(database_url), "worker"):
            started = datetime.now(UTC)
            # Overdue by now: published at the worker's start-up.
            await _published_within(app, post_id, started, 5)
            answer = await http.get(f"{API}/posts/{post_id}")
            assert answer.json()["status"] == "published"
            await http.aclose()
            # And it keeps publishing what comes due while it runs.
            second, when = await _scheduled_post(client, author["headers"], 1)
            await _published_within(app, second, when, 5)
    counts = await assert_counts_exact(app)
    assert counts[Counter.PUBLISHED_POSTS.value, 0] == 2


async def test_the_worker_stops_cleanly_on_sigterm(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "blog_api", "worker", cwd=tmp_path, env=_env(database_url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        async with app.state.session_factory() as session:
            if await session.get(BackgroundJob, "publish_scheduled_posts") is not None:
                break
        assert process.returncode is None
        assert time.monotonic() < deadline, "the worker did not start"
        await asyncio.sleep(0.1)
    process.terminate()
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output
