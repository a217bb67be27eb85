"""`make soak`: a mixed workload against a served blog-api, bounded in time, with the
PostgreSQL backends killed a few times during it; then every write is checked against the
database.

    make soak                                   # PostgreSQL, 10 minutes, 32 clients
    SOAK_DB=sqlite SOAK_SECONDS=120 make soak

Settings (environment): SOAK_DB (postgresql | sqlite), SOAK_SECONDS (600), SOAK_CLIENTS (32),
SOAK_KILLS (backend kills during the run, PostgreSQL only: 3), SOAK_PG_URL (a database of its
own, dropped and made anew: postgresql://postgres@127.0.0.1:5432/blog_api_soak), SOAK_PORT
(default: a free port), SOAK_BCRYPT_ROUNDS (4: logins are part of the mix, not its cost).

Each client registers an account, then loops over weighted operations: create a post with
tags from a small shared pool (so that tags are created by racing requests), edit it (title,
tags, published), delete it, list pages (filtered by tag too), read a post, log in again, and
race other clients to create posts with the same title. The client records what every 2xx
answer promised. A write answered 503 (or cut off) may or may not have happened: that post is
marked uncertain and checked only for being whole. At the end:

- lost: a post created (201) and not deleted (204) is missing, or differs from its last
  acknowledged edit (title, published, tags); an account registered (201) is missing;
- doubled: two rows for one create (each create carries a unique marker in its content);
- half-written: a post without the tags its last acknowledged write gave it; tag counts and
  the public total differ from a count of the rows;

and it prints requests, statuses, 5xx, lost writes, and the app's RSS at start, peak and end.
It fails (exit 1) on any 500 or anything lost, doubled or half-written.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.served import (
    app_environment,
    drop_database,
    free_port,
    migrate,
    recreate_database,
    start,
    stop,
)
from blog_api.config import normalize_database_url

PASSWORD = "soak password 1"
TAG_POOL = [f"t{i}" for i in range(12)]


@dataclass
class Expected:
    """What the answers promised about one post."""

    marker: str
    title: str
    published: bool
    tags: set[str]
    deleted: bool = False
    uncertain: bool = False  # a write on it was answered 503 or cut off


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    users: dict[str, int] = field(default_factory=dict)  # username -> id (201)
    posts: dict[int, Expected] = field(default_factory=dict)
    uncertain_creates: list[str] = field(default_factory=list)  # markers

    def count(self, response: httpx.Response | None) -> None:
        self.requests += 1
        if response is None:
            self.transport_errors += 1
        else:
            self.statuses[response.status_code] += 1


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def call(
    tally: Tally, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> httpx.Response | None:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TransportError:
        tally.count(None)
        return None
    tally.count(response)
    return response


def uncertain(response: httpx.Response | None) -> bool:
    return response is None or response.status_code == 503


class Client:
    def __init__(self, tally: Tally, base: str, number: int, shared_titles: list[str]) -> None:
        self.tally = tally
        self.http = httpx.AsyncClient(base_url=base, timeout=30)
        self.name = f"soak{number}_{uuid.uuid4().hex[:8]}"
        self.headers: dict[str, str] = {}
        self.mine: list[int] = []
        self.shared_titles = shared_titles
        self.rng = random.Random(number)

    async def sign_up(self) -> bool:
        body = {"username": self.name, "email": f"{self.name}@example.com", "password": PASSWORD}
        response = await call(self.tally, self.http, "POST", "/api/v1/users", json=body)
        if response is not None and response.status_code == 201:
            self.tally.users[self.name] = response.json()["id"]
        return await self.log_in()

    async def log_in(self) -> bool:
        form = {"username": self.name, "password": PASSWORD}
        response = await call(self.tally, self.http, "POST", "/api/v1/auth/token", data=form)
        if response is not None and response.status_code == 200:
            self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
            return True
        return False

    def tags(self) -> list[str]:
        return self.rng.sample(TAG_POOL, self.rng.randint(0, 4))

    async def create(self, title: str | None = None) -> None:
        marker = uuid.uuid4().hex
        title = title or f"Post {marker[:8]}"
        tags = self.tags()
        published = self.rng.random() < 0.7
        body = {"title": title, "content": f"marker {marker}", "published": published, "tags": tags}
        response = await call(
            self.tally, self.http, "POST", "/api/v1/posts", json=body, headers=self.headers
        )
        if response is not None and response.status_code == 201:
            post_id = response.json()["id"]
            self.tally.posts[post_id] = Expected(marker, title, published, set(tags))
            self.mine.append(post_id)
        elif uncertain(response):
            self.tally.uncertain_creates.append(marker)

    async def edit(self) -> None:
        if not self.mine:
            return
        post_id = self.rng.choice(self.mine)
        expected = self.tally.posts[post_id]
        change: dict[str, Any] = {}
        if self.rng.random() < 0.5:
            change["title"] = f"Edited {uuid.uuid4().hex[:8]}"
        if self.rng.random() < 0.5:
            change["tags"] = self.tags()
        if self.rng.random() < 0.5:
            change["published"] = not expected.published
        if not change:
            change["title"] = f"Edited {uuid.uuid4().hex[:8]}"
        response = await call(
            self.tally,
            self.http,
            "PATCH",
            f"/api/v1/posts/{post_id}",
            json=change,
            headers=self.headers,
        )
        if response is not None and response.status_code == 200:
            expected.title = change.get("title", expected.title)
            expected.tags = set(change.get("tags", expected.tags))
            expected.published = change.get("published", expected.published)
        elif uncertain(response):
            expected.uncertain = True

    async def delete(self) -> None:
        if not self.mine:
            return
        post_id = self.mine.pop(self.rng.randrange(len(self.mine)))
        response = await call(
            self.tally, self.http, "DELETE", f"/api/v1/posts/{post_id}", headers=self.headers
        )
        expected = self.tally.posts[post_id]
        if response is not None and response.status_code == 204:
            expected.deleted = True
        elif uncertain(response):
            expected.uncertain = True
        else:
            self.mine.append(post_id)

    async def read(self) -> None:
        roll = self.rng.random()
        if roll < 0.4:
            params: dict[str, Any] = {"per_page": 20, "page": self.rng.randint(1, 5)}
            if self.rng.random() < 0.5:
                params["tag"] = self.rng.choice(TAG_POOL)
            await call(self.tally, self.http, "GET", "/api/v1/posts", params=params)
        elif roll < 0.6:
            await call(self.tally, self.http, "GET", "/api/v1/tags")
        elif roll < 0.8 and self.mine:
            post_id = self.rng.choice(self.mine)
            await call(
                self.tally, self.http, "GET", f"/api/v1/posts/{post_id}", headers=self.headers
            )
        else:
            await call(self.tally, self.http, "GET", "/api/v1/users/me", headers=self.headers)

    async def run(self, deadline: float) -> None:
        for _ in range(100):  # the database may be restarting under us
            if await self.sign_up() or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        while time.monotonic() < deadline:
            roll = self.rng.random()
            if roll < 0.18:
                await self.create()
            elif roll < 0.30:
                await self.edit()
            elif roll < 0.36:
                await self.delete()
            elif roll < 0.39:
                await self.create(self.rng.choice(self.shared_titles))  # racing slugs
            elif roll < 0.41:
                if not await self.log_in():
                    await asyncio.sleep(0.2)
            else:
                await self.read()
        await self.http.aclose()


async def kill_backends(database_url: str) -> int:
    target = make_url(database_url)
    server = target.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            target.database,
        )
    finally:
        await conn.close()
    return int(killed)


async def check(database_url: str, tally: Tally, base: str) -> dict[str, int]:
    """Compare every acknowledged write with the database."""
    engine = create_async_engine(normalize_database_url(database_url))
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT id, title, published, content FROM posts"))
            ).all()
            links = (
                await conn.execute(
                    text(
                        "SELECT pt.post_id, t.name FROM post_tags pt "
                        "JOIN tags t ON t.id = pt.tag_id"
                    )
                )
            ).all()
            usernames = set((await conn.execute(text("SELECT username FROM users"))).scalars())
    finally:
        await engine.dispose()
    tags_of: dict[int, set[str]] = {}
    for post_id, name in links:
        tags_of.setdefault(post_id, set()).add(name)
    by_id = {row.id: row for row in rows}
    markers = Counter(row.content.removeprefix("marker ") for row in rows)
    problems = Counter[str]()
    for post_id, expected in tally.posts.items():
        row = by_id.get(post_id)
        if markers[expected.marker] > 1:
            problems["doubled posts"] += 1
        if expected.uncertain:
            continue
        if expected.deleted:
            if row is not None:
                problems["deleted posts still there"] += 1
            continue
        if row is None:
            problems["lost posts"] += 1
        elif (row.title, bool(row.published)) != (expected.title, expected.published):
            problems["lost edits"] += 1
        elif tags_of.get(post_id, set()) != expected.tags:
            problems["half-written tags"] += 1
    for marker in tally.uncertain_creates:
        if markers[marker] > 1:
            problems["doubled posts"] += 1
    problems["lost accounts"] = sum(1 for name in tally.users if name not in usernames)

    # The counts the API answers against a count of the rows.
    published = {row.id for row in rows if row.published}
    truth = Counter(name for post_id, name in links if post_id in published)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        total = (await client.get("/api/v1/posts", params={"per_page": 1})).json()["total"]
        answered: dict[str, int] = {}
        page = 1
        while True:
            body = (await client.get("/api/v1/tags", params={"page": page, "per_page": 100})).json()
            answered.update({item["name"]: item["post_count"] for item in body["items"]})
            if page >= (body.get("pages") or 1):
                break
            page += 1
    if total != len(published):
        problems["wrong public total"] += 1
    problems["wrong tag counts"] = sum(
        1 for name in set(truth) | set(answered) if truth.get(name, 0) != answered.get(name, 0)
    )
    return {key: value for key, value in problems.items() if value}


async def soak() -> int:
    db = os.environ.get("SOAK_DB", "postgresql").lower()
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    clients = int(os.environ.get("SOAK_CLIENTS", "32"))
    kills = int(os.environ.get("SOAK_KILLS", "3")) if db != "sqlite" else 0
    port = int(os.environ.get("SOAK_PORT") or free_port())
    workdir = Path(tempfile.mkdtemp(prefix="blog_api_soak_"))
    if db == "sqlite":
        database_url = f"sqlite:///{workdir / 'soak.db'}"
    else:
        database_url = os.environ.get(
            "SOAK_PG_URL", "postgresql://postgres@127.0.0.1:5432/blog_api_soak"
        )
        await recreate_database(database_url)
    env = app_environment(
        database_url,
        ENVIRONMENT="production",
        BCRYPT_ROUNDS=os.environ.get("SOAK_BCRYPT_ROUNDS", "4"),
    )
    migrate(env)
    log_path = workdir / "app.log"
    with log_path.open("wb") as log:
        app = start(port, env, workdir, log)
        base = f"http://127.0.0.1:{port}"
        tally = Tally()
        try:
            async with httpx.AsyncClient(base_url=base) as probe:
                for _ in range(300):
                    try:
                        if (await probe.get("/health/ready")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)
            rss_start = peak = rss_mib(app.pid)
            print(
                f"soak: {db}, {clients} clients, {seconds:.0f} s, {kills} backend kills, {base}",
                flush=True,
            )
            started = time.monotonic()
            deadline = started + seconds
            shared_titles = [f"Shared title {i}" for i in range(5)]
            workers = [
                asyncio.create_task(Client(tally, base, n, shared_titles).run(deadline))
                for n in range(clients)
            ]
            kill_times = [started + seconds * (i + 1) / (kills + 1) for i in range(kills)]
            killed = 0
            while any(not w.done() for w in workers):
                await asyncio.sleep(0.5)
                peak = max(peak, rss_mib(app.pid))
                if kill_times and time.monotonic() >= kill_times[0]:
                    kill_times.pop(0)
                    killed += await kill_backends(database_url)
            await asyncio.gather(*workers)
            elapsed = time.monotonic() - started
            rss_end = rss_mib(app.pid)
            problems = await check(database_url, tally, base)
        finally:
            stop(app)
    unhandled = log_path.read_text(errors="replace").count("Unhandled error")
    five = {code: n for code, n in sorted(tally.statuses.items()) if code >= 500}
    creates = len(tally.posts)
    print(f"requests       {tally.requests} in {elapsed:.0f} s ({tally.requests / elapsed:.0f}/s)")
    print(f"statuses       {dict(sorted(tally.statuses.items()))}")
    print(f"5xx            {sum(five.values())} {five}  (500: {tally.statuses[500]})")
    print(f"cut off        {tally.transport_errors} (connection errors seen by clients)")
    print(f"backends killed {killed}" if db != "sqlite" else "backends killed -")
    print(
        f"writes checked {creates} posts created, {sum(e.deleted for e in tally.posts.values())}"
        f" deleted, {sum(e.uncertain for e in tally.posts.values())} uncertain (503),"
        f" {len(tally.users)} accounts"
    )
    print(f"lost/doubled/half-written {problems or 'none'}")
    print(f"RSS MiB        start {rss_start:.0f}, peak {peak:.0f}, end {rss_end:.0f}")
    print(f"app log        {unhandled} unhandled errors ({log_path})")
    if db != "sqlite":
        await drop_database(database_url)
    failed = tally.statuses[500] > 0 or unhandled > 0 or bool(problems)
    print("soak: FAILED" if failed else "soak: passed")
    return 1 if failed else 0


def main() -> int:
    return asyncio.run(soak())


if __name__ == "__main__":
    raise SystemExit(main())
