"""`make bench`: seed, check that the reference answers as the app does, measure, report."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlencode

import asyncpg

from bench import report, seed, wrk
from bench.report import BurstResult, Results, ScenarioResult
from bench.selfcheck import SelfCheck, call
from bench.servers import APP_TARGET, REFERENCE_TARGET, Server, serve
from bench.settings import PROJECT_DIR, VENV_BIN, WORK_DIR, BenchSettings

LOGIN_USER = "user00001"
BURST_LOGINS = 16
SEARCH_TAG = "python"
MID_WALK_PAGE = 10  # the cursor scenario reads the page after this many pages of scrolling
RANDOM_POSTS = 1000
# The RealWorld face's global list, as a front-end's home page asks for it.
REALWORLD_LIST = "/api/articles?limit=20"
# For the text search: with 32 requests of a few hundred ms each in flight, one request could
# outlast a 5 s run, and the run would measure the queue rather than the server.
SLOW_CONNECTIONS = 8


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    title: str
    lua: str  # bench/lua/<lua>.lua
    # The Lua script's arguments, for the app; the reference's when they differ (its own
    # token). "{round}" becomes a label of its own for each run (creates need new titles).
    args: tuple[str, ...] = ()
    ref_args: tuple[str, ...] | None = None
    connections: int | None = None


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# The database, seen from outside the servers ------------------------------------------------


def database_version(settings: BenchSettings) -> str:
    if settings.is_sqlite:
        return report.sqlite_version()

    async def version() -> str:
        conn = await asyncpg.connect(settings.database_url)
        try:
            return f"PostgreSQL {await conn.fetchval('SHOW server_version')}"
        finally:
            await conn.close()

    return asyncio.run(version())


async def _pg_busy(settings: BenchSettings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        busy: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'active' AND pid <> pg_backend_pid()"
        )
        return busy
    finally:
        await conn.close()


def _cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quiesce(settings: BenchSettings, server: Server, limit: float = 60.0) -> None:
    """Wait until the requests wrk abandoned at its end have finished, so that they do not eat
    into the next measurement: no query running (PostgreSQL) and the server idle."""
    deadline = time.monotonic() + limit
    if not settings.is_sqlite:
        while asyncio.run(_pg_busy(settings)) and time.monotonic() < deadline:
            time.sleep(0.1)
    before = _cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = _cpu_seconds(server.pid)
        if now - before < 0.005:  # under 5% of a CPU
            return
        before = now


def random_post_ids(data: seed.Dataset) -> list[int]:
    """A fixed sample of published posts (a draft would be a 404)."""
    ids = data.published_ids()
    return sorted(random.Random(7).sample(ids, min(RANDOM_POSTS, len(ids))))


# Planning: the requests, taken from the app's own answers -----------------------------------


def plan(settings: BenchSettings, app: Server, data: seed.Dataset) -> list[Scenario]:
    first = call(app, "GET", "/api/v1/posts").json()
    pages = first["pages"]
    if pages < 4:
        raise SystemExit(f"{pages} pages of posts is too few to measure: raise BENCH_POSTS")
    mid_page = min(MID_WALK_PAGE, pages - 2)
    mid = call(app, "GET", f"/api/v1/posts?page={mid_page}").json()
    deep_page = max(2, pages // 2)
    before_deep = call(app, "GET", f"/api/v1/posts?page={deep_page - 1}").json()
    if mid.get("next_cursor") is None or before_deep.get("next_cursor") is None:
        raise SystemExit("the app gave no next_cursor: does it have cursor mode yet?")
    ids_file = wrk.paths_file("posts", [f"/api/v1/posts/{i}" for i in random_post_ids(data)])

    def list_path(name: str, query: dict[str, str | int]) -> tuple[str, ...]:
        path = "/api/v1/posts" + (f"?{urlencode(query)}" if query else "")
        return (str(wrk.paths_file(name, [path])),)

    return [
        Scenario(
            "cursor",
            f"list, cursor mode (after page {mid_page})",
            "get",
            list_path("cursor", {"cursor": mid["next_cursor"]}),
        ),
        Scenario("page1", "list, page 1 (page mode, total)", "get", list_path("page1", {})),
        Scenario("post", f"one post by id ({RANDOM_POSTS} ids)", "get", (str(ids_file),)),
        Scenario(
            "tag", f"list, tag={SEARCH_TAG} (page 1)", "get", list_path("tag", {"tag": SEARCH_TAG})
        ),
        Scenario(
            "q",
            f"list, q={seed.RARE_WORD} (page 1)",
            "get",
            list_path("q", {"q": seed.RARE_WORD}),
            connections=min(settings.connections, SLOW_CONNECTIONS),
        ),
        Scenario(
            "q_latency",
            f"list, q={seed.RARE_WORD}, one client (latency)",
            "get",
            list_path("q", {"q": seed.RARE_WORD}),
            connections=1,
        ),
        Scenario(
            "deep_page",
            f"list, deep page {deep_page} (page mode)",
            "get",
            list_path("deep_page", {"page": deep_page}),
        ),
        Scenario(
            "deep_cursor",
            "list, same position (cursor mode)",
            "get",
            list_path("deep_cursor", {"cursor": before_deep["next_cursor"]}),
        ),
        Scenario(
            "realworld",
            f"RealWorld list, {REALWORLD_LIST}",
            "get",
            (str(wrk.paths_file("realworld", [REALWORLD_LIST])),),
        ),
        Scenario(
            "realworld_tags",
            "RealWorld tags, GET /api/tags (every tag in use)",
            "get",
            (str(wrk.paths_file("realworld_tags", ["/api/tags"])),),
        ),
    ]


def self_check(
    settings: BenchSettings, app: Server, reference: Server, scenarios: list[Scenario]
) -> tuple[str, str]:
    """Fail loudly unless both servers answer alike; returns a token from each."""
    check = SelfCheck(app, reference)
    for scenario in scenarios:
        paths = Path(scenario.args[0]).read_text().split()
        for path in paths[:: max(1, len(paths) // 25)]:
            check.get(path)
    deep_page = check.get(Path(scenario_args(scenarios, "deep_page")).read_text().strip())[0]
    deep_cursor = check.get(Path(scenario_args(scenarios, "deep_cursor")).read_text().strip())[0]
    if deep_page.json()["items"] != deep_cursor.json()["items"]:
        check.failures.append("the deep page and the cursor to the same position differ")
    for path in (
        "/api/articles?limit=7&offset=13",
        "/api/articles?offset=99999999",
        "/api/v1/posts?per_page=7&page=3",
        "/api/v1/posts?page=99999999",
        "/api/v1/posts?author=user00007&per_page=5",
        f"/api/v1/posts?tag={SEARCH_TAG}&q={seed.RARE_WORD}",
        "/api/v1/posts?q=ZEPPELIN&per_page=3&page=2",
    ):
        check.get(path)
    for path in (
        "/api/v1/posts?per_page=5",
        "/api/v1/posts?sort=created_at&per_page=5",
        "/api/v1/posts?sort=title&per_page=5",
        "/api/v1/posts?sort=-title&per_page=5",
        f"/api/v1/posts?tag={SEARCH_TAG}&per_page=5",
        f"/api/v1/posts?q={seed.RARE_WORD}&per_page=5",
    ):
        check.walk(path, pages=3)
    tokens = check.login(LOGIN_USER, settings.password)
    check.create(*tokens, tags=list(seed.TAG_NAMES[:3]))
    check.raise_on_failure()
    print(f"self-check: the reference answers as the app does ({check.checked} checks)", flush=True)
    return tokens


def social_scenarios(
    app: Server, reference: Server, data: seed.Dataset, tokens: tuple[str, str]
) -> list[Scenario]:
    """What a SPA shows a logged-in reader: one post with their `favorited` flag and its first
    page of comments, and their /feed (LOGIN_USER follows seed.FOLLOWS_PER_USER users) in
    cursor mode. Checked against the reference first, each server with its own token."""
    app_token, ref_token = tokens
    ids = random_post_ids(data)
    posts_file = wrk.paths_file("post_viewer", [f"/api/v1/posts/{i}" for i in ids])
    comments_file = wrk.paths_file("comments", [f"/api/v1/posts/{i}/comments" for i in ids])
    first = call(app, "GET", "/api/v1/feed", token=app_token).json()
    if first.get("next_cursor") is None:
        raise SystemExit("the feed has a single page: raise BENCH_POSTS")
    feed_file = wrk.paths_file(
        "feed", [f"/api/v1/feed?{urlencode({'cursor': first['next_cursor']})}"]
    )
    check = SelfCheck(app, reference)
    for post_id in ids[::40]:
        check.get(f"/api/v1/posts/{post_id}", tokens)
        check.get(f"/api/v1/posts/{post_id}/comments")
    check.walk("/api/v1/feed?per_page=7", pages=3, tokens=tokens)
    check.get(Path(feed_file).read_text().strip(), tokens)
    check.raise_on_failure()
    print(f"self-check: social scenarios answer alike ({check.checked} checks)", flush=True)
    return [
        Scenario(
            "post_viewer",
            f"one post, logged-in viewer ({RANDOM_POSTS} ids)",
            "get_auth",
            (app_token, str(posts_file)),
            (ref_token, str(posts_file)),
        ),
        Scenario(
            "comments", "its first page of comments (page mode)", "get", (str(comments_file),)
        ),
        Scenario(
            "feed",
            f"/feed following {seed.FOLLOWS_PER_USER} users, cursor mode",
            "get_auth",
            (app_token, str(feed_file)),
            (ref_token, str(feed_file)),
        ),
    ]


def own_post_ids(data: seed.Dataset, username: str) -> list[int]:
    """The published posts of `username` (what the PATCH row edits, as their author)."""
    user_id = next(user[0] for user in data.users if user[2] == username)
    author = seed.POST_COLUMNS.index("author_id")
    published = set(data.published_ids())
    return [post[0] for post in data.posts if post[author] == user_id and post[0] in published]


def patch_scenario(
    app: Server, reference: Server, data: seed.Dataset, tokens: tuple[str, str]
) -> Scenario:
    """PATCH one of the login user's posts (a new title and content): the app locks it,
    renders, keeps a revision and the slug; the reference runs a plain UPDATE. Checked
    against the reference first."""
    ids = own_post_ids(data, LOGIN_USER)
    if not ids:
        raise SystemExit(f"{LOGIN_USER} has no published post to edit: raise BENCH_POSTS")
    check = SelfCheck(app, reference)
    check.patch(*tokens, post_id=ids[0])
    check.raise_on_failure()
    print(f"self-check: PATCH answers alike ({check.checked} checks)", flush=True)
    ids_file = wrk.paths_file("patch", [str(i) for i in ids])
    app_token, ref_token = tokens
    return Scenario(
        "patch",
        f"PATCH a post: title and content ({len(ids)} own posts)",
        "patch_post",
        (app_token, "{round}", str(ids_file)),
        (ref_token, "{round}", str(ids_file)),
    )


def scenario_args(scenarios: list[Scenario], key: str) -> str:
    return next(s.args[0] for s in scenarios if s.key == key)


# Measuring ----------------------------------------------------------------------------------


def measure(
    settings: BenchSettings, scenario: Scenario, servers: tuple[Server, Server]
) -> ScenarioResult:
    connections = scenario.connections or settings.connections
    result = ScenarioResult(scenario.key, scenario.title, connections)
    lua = wrk.script(scenario.lua)
    for round_ in range(settings.rounds):
        for server in servers:
            is_app = server.name == "app"
            args = scenario.args if is_app or scenario.ref_args is None else scenario.ref_args
            args = tuple(a.replace("{round}", f"{server.name}{round_}") for a in args)
            if settings.warmup > 0:
                wrk.run(
                    server.port, lua, list(args), seconds=settings.warmup, connections=connections
                )
                quiesce(settings, server)
            run = wrk.run(
                server.port, lua, list(args), seconds=settings.duration, connections=connections
            )
            quiesce(settings, server)
            (result.app if is_app else result.ref).append(run)
            print(
                f"  {scenario.key:<12} {server.name:<9} round {round_ + 1}: "
                f"{run.rps:8.1f} req/s  p50 {run.p50_ms:7.1f} ms  p99 {run.p99_ms:7.1f} ms"
                + (f"  ERRORS {run.errors}" if run.errors else ""),
                flush=True,
            )
    if settings.profile:
        profile(settings, scenario, servers[0], lua, connections)
    return result


def profile(
    settings: BenchSettings, scenario: Scenario, app: Server, lua: Path, connections: int
) -> None:
    """One more (unmeasured) run with py-spy recording the app: bench/.work/profile-KEY.svg."""
    py_spy = VENV_BIN / "py-spy"
    if not py_spy.exists():
        print("  (no py-spy in .venv: skipping the profile)")
        return
    out = WORK_DIR / f"profile-{scenario.key}.svg"
    command = [
        "taskset", "-c", wrk.CLIENT_CPU, str(py_spy), "record", "--pid", str(app.pid),
        "--duration", str(settings.duration), "--rate", "250",
        "--output", str(out), "--format", "flamegraph",
    ]  # fmt: skip
    recorder = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        args = [a.replace("{round}", "profile") for a in scenario.args]
        wrk.run(app.port, lua, args, seconds=settings.duration, connections=connections)
    finally:
        recorder.wait(timeout=60)
    quiesce(settings, app)
    print(f"  profile: {out}")


def login_burst(settings: BenchSettings, servers: tuple[Server, Server]) -> BurstResult:
    result = BurstResult(BURST_LOGINS)
    for round_ in range(settings.rounds):
        for server in servers:
            command = [
                "taskset", "-c", wrk.CLIENT_CPU, sys.executable, "-m", "bench.loop_lag",
                str(server.port), LOGIN_USER, settings.password, str(BURST_LOGINS),
            ]  # fmt: skip
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                check=False,
                cwd=PROJECT_DIR,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the login burst failed:\n{done.stderr}")
            run = json.loads(done.stdout)
            (result.app if server.name == "app" else result.ref).append(run)
            print(
                f"  {'logins':<12} {server.name:<9} round {round_ + 1}: "
                f"{BURST_LOGINS} in {run['logins_seconds']:.2f} s, /health max "
                f"{run['lag_max_ms']:.1f} ms, p99 {run['lag_p99_ms']:.1f} ms",
                flush=True,
            )
            time.sleep(0.5)
    return result


MIXED_SECONDS = 10
MIXED_CLIENTS = 32


def mixed_writes(settings: BenchSettings, app: Server, token: str) -> dict[str, object]:
    """32 clients creating (shared tags), publishing, editing and deleting posts for 10 s:
    the app alone (the reference has no PATCH or DELETE)."""
    command = [
        "taskset", "-c", wrk.CLIENT_CPU, sys.executable, "-m", "bench.mixed",
        str(app.port), token, str(MIXED_SECONDS), str(MIXED_CLIENTS),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=PROJECT_DIR)
    if done.returncode != 0:
        raise RuntimeError(f"the mixed writes failed:\n{done.stderr}")
    run: dict[str, object] = json.loads(done.stdout)
    print(f"  {'mixed':<12} app       {run}", flush=True)
    quiesce(settings, app)
    return run


# The run ------------------------------------------------------------------------------------


def preflight() -> None:
    if not shutil.which("taskset"):
        raise SystemExit("taskset is missing (Debian package util-linux)")
    wrk.ensure_wrk()


def main() -> None:
    # Every way of being stopped unwinds the servers' context managers (SIGINT too, which a
    # shell leaves ignored for background jobs).
    for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _interrupt)
    started = time.perf_counter()
    settings = BenchSettings.from_env()
    print(
        f"bench: {settings.db}, {settings.posts} posts, {settings.connections} connections, "
        f"{settings.rounds} x ({settings.warmup:g} s + {settings.duration:g} s) per side",
        flush=True,
    )
    preflight()
    data = seed.seed(settings)
    version = database_version(settings)
    results = Results(settings)
    with ExitStack() as stack:
        app = stack.enter_context(serve("app", APP_TARGET, settings.app_port, settings))
        ref = stack.enter_context(serve("reference", REFERENCE_TARGET, settings.ref_port, settings))
        servers = (app, ref)
        scenarios = plan(settings, app, data)
        app_token, ref_token = self_check(settings, app, ref, scenarios)
        scenarios.extend(social_scenarios(app, ref, data, (app_token, ref_token)))
        tags = ",".join(seed.TAG_NAMES)
        scenarios.append(
            Scenario(
                "create",
                "create a post with 3 tags",
                "create_post",
                (app_token, "{round}", tags),
                (ref_token, "{round}", tags),
            )
        )
        if settings.wants("patch"):
            scenarios.append(patch_scenario(app, ref, data, (app_token, ref_token)))
        for scenario in scenarios:
            if settings.wants(scenario.key):
                results.scenarios.append(measure(settings, scenario, servers))
        if settings.wants("mixed"):
            results.mixed = mixed_writes(settings, app, app_token)
        if settings.wants("logins"):
            results.burst = login_burst(settings, servers)
    if any(s.errors for s in results.scenarios):
        results.notes.append("[errors!]: wrk saw failed requests in that scenario (see above)")
    results.seconds = time.perf_counter() - started
    complete = settings.scenarios is None
    if complete:
        report.write_results_md(results, version)
    print()
    print(f"{version}, {settings.posts} posts; {results.seconds / 60:.1f} min in all")
    print(report.text_table(results))
    if complete:
        print(f"(results written to {report.RESULTS})")
    else:
        print(f"(BENCH_SCENARIOS chose a part of the run: {report.RESULTS} left as it was)")
    for line in report.summary_lines(results):
        print(line)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\nbench: interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
