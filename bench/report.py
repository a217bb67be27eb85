"""The results: a table on the terminal, and the generated section of bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.settings import BENCH_DIR, PROJECT_DIR, BenchSettings
from bench.wrk import Measurement

RESULTS = BENCH_DIR / "RESULTS.md"

RESULTS_TEMPLATE = """\
# Benchmark results

`make bench` seeds a database (PostgreSQL by default, `BENCH_DB=sqlite` for SQLite), serves
blog-api and `bench/reference.py` (the same answers from raw SQL, Starlette and orjson) one
Uvicorn worker each on CPU 0, and drives them from CPU 1 with wrk. Ratios are app / reference
(1.00 would be the reference's speed). See bench/README.md for the method.

## What each optimisation bought

_Hand-written: the bench never touches this section. Say what changed, and the figures
before and after from the generated sections below._

"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


@dataclass(slots=True)
class ScenarioResult:
    key: str
    title: str
    connections: int
    app: list[Measurement] = field(default_factory=list)
    ref: list[Measurement] = field(default_factory=list)

    @staticmethod
    def _median(runs: list[Measurement], get: Callable[[Measurement], float]) -> float:
        return median([get(run) for run in runs])

    def rps(self, side: str) -> float:
        return self._median(self.app if side == "app" else self.ref, lambda m: m.rps)

    def p50(self, side: str) -> float:
        return self._median(self.app if side == "app" else self.ref, lambda m: m.p50_ms)

    def p99(self, side: str) -> float:
        return self._median(self.app if side == "app" else self.ref, lambda m: m.p99_ms)

    @property
    def ratio(self) -> float:
        ref = self.rps("ref")
        return self.rps("app") / ref if ref else 0.0

    @property
    def errors(self) -> int:
        return sum(m.errors for m in (*self.app, *self.ref))


@dataclass(slots=True)
class BurstResult:
    logins: int
    app: list[dict[str, Any]] = field(default_factory=list)
    ref: list[dict[str, Any]] = field(default_factory=list)

    def get(self, side: str, key: str) -> float:
        return median([float(run[key]) for run in (self.app if side == "app" else self.ref)])


@dataclass(slots=True)
class Results:
    settings: BenchSettings
    scenarios: list[ScenarioResult] = field(default_factory=list)
    burst: BurstResult | None = None
    mixed: dict[str, Any] | None = None  # bench/mixed.py's answer
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def scenario(self, key: str) -> ScenarioResult | None:
        return next((s for s in self.scenarios if s.key == key), None)


# Machine ------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    revision = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src", "migrations")
    return f"{revision} + uncommitted changes" if dirty else revision


def machine_lines(results: Results, database_version: str) -> list[str]:
    settings = results.settings
    return [
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, app at commit {git_revision()}",
        f"- machine: {len(os.sched_getaffinity(0))} CPUs (`nproc`), {cpu_model()}; Python "
        f"{platform.python_version()}",
        f"- database: {database_version}; BENCH_POSTS={settings.posts}, {settings.users} users",
        f"- load: wrk, {settings.connections} connections (unless noted), "
        f"{settings.warmup:g} s warm-up + {settings.duration:g} s measured, "
        f"{settings.rounds} rounds app/reference alternately; medians",
        f"- whole run: {results.seconds / 60:.1f} min",
    ]


def sqlite_version() -> str:
    return f"SQLite {sqlite3.sqlite_version}"


# Table --------------------------------------------------------------------------------------

HEADER = (
    "scenario",
    "app req/s",
    "app p50",
    "app p99",
    "ref req/s",
    "ref p50",
    "ref p99",
    "app/ref",
)


def _rows(results: Results) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for s in results.scenarios:
        title = (
            s.title
            if s.connections == results.settings.connections
            else (f"{s.title} ({s.connections} conn.)")
        )
        rows.append(
            (
                title + (" [errors!]" if s.errors else ""),
                f"{s.rps('app'):.0f}",
                f"{s.p50('app'):.1f} ms",
                f"{s.p99('app'):.1f} ms",
                f"{s.rps('ref'):.0f}",
                f"{s.p50('ref'):.1f} ms",
                f"{s.p99('ref'):.1f} ms",
                f"{s.ratio:.2f}",
            )
        )
    if results.mixed is not None:
        m = results.mixed
        rows.append(
            (
                f"mixed writes, {m['requests']} requests: create/publish/edit/delete (5xx: "
                f"{m['errors_5xx']})",
                f"{m['rps']:.0f}",
                f"{m['p50_ms']:.1f} ms",
                f"{m['p99_ms']:.1f} ms",
                "",
                "",
                "",
                "",
            )
        )
    if results.burst is not None:
        # The burst's row: logins per second, then /health's p99 and max during the burst.
        b = results.burst
        rows.append(
            (
                f"{b.logins} logins (logins/s; /health p99, max)",
                f"{b.logins / b.get('app', 'logins_seconds'):.1f}",
                f"{b.get('app', 'lag_p99_ms'):.1f} ms",
                f"{b.get('app', 'lag_max_ms'):.1f} ms",
                f"{b.logins / b.get('ref', 'logins_seconds'):.1f}",
                f"{b.get('ref', 'lag_p99_ms'):.1f} ms",
                f"{b.get('ref', 'lag_max_ms'):.1f} ms",
                "",
            )
        )
    return rows


def text_table(results: Results) -> str:
    rows = [HEADER, *_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Results) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|---" + "|---:" * (len(HEADER) - 1) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(results)]
    return "\n".join(lines)


def summary_lines(results: Results) -> list[str]:
    """The closing lines; the very last one is `list ratio: 0.NN`."""
    lines: list[str] = []
    burst = results.burst
    if burst is not None:
        for side, name in (("app", "app"), ("ref", "reference")):
            lines.append(
                f"login burst, {name}: {burst.logins} logins in "
                f"{burst.get(side, 'logins_seconds'):.2f} s; /health during it: "
                f"max {burst.get(side, 'lag_max_ms'):.1f} ms, p99 "
                f"{burst.get(side, 'lag_p99_ms'):.1f} ms, p50 {burst.get(side, 'lag_p50_ms'):.1f} "
                f"ms (idle p50 {burst.get(side, 'idle_p50_ms'):.1f} ms)"
            )
    if results.mixed is not None:
        m = results.mixed
        lines.append(
            f"mixed writes: {m['requests']} requests in {m['seconds']:.0f} s, "
            f"{m['errors_5xx']} x 5xx, {m['failed']} unanswered, p50 {m['p50_ms']:.1f} ms, "
            f"p99 {m['p99_ms']:.1f} ms; statuses {m['statuses']}"
        )
    one = results.scenario("post")
    if one is not None:
        lines.append(f"one-post ratio: {one.ratio:.2f}")
    for key, label in (
        ("post_viewer", "post page, logged in"),
        ("comments", "first comment page"),
        ("feed", "feed, cursor mode"),
        ("realworld_tags", "RealWorld tags"),
    ):
        found = results.scenario(key)
        if found is not None:
            lines.append(f"{label} ratio: {found.ratio:.2f} (aim 0.5)")
    page1, cursor = results.scenario("page1"), results.scenario("cursor")
    if page1 is not None and cursor is not None and cursor.rps("app"):
        lines.append(
            f"page-1 (page mode) / cursor mode, app: {page1.rps('app') / cursor.rps('app'):.2f} "
            "(target >= 0.8)"
        )
    if cursor is not None:
        lines.append(f"list ratio: {cursor.ratio:.2f}")
    return lines


# RESULTS.md ---------------------------------------------------------------------------------


def write_results_md(results: Results, database_version: str) -> None:
    """Replace this database's generated section of RESULTS.md; leave the rest as it is."""
    db = results.settings.db
    begin, end = f"<!-- bench:{db}:begin -->", f"<!-- bench:{db}:end -->"
    heading = "PostgreSQL" if db == "postgresql" else "SQLite"
    section = "\n".join(
        [
            begin,
            f"## Latest run on {heading} (generated by `make bench`; do not edit)",
            "",
            *machine_lines(results, database_version),
            "",
            markdown_table(results),
            "",
            *[f"- {note}" for note in results.notes],
            *[f"- {line}" for line in summary_lines(results)],
            end,
        ]
    )
    text = RESULTS.read_text() if RESULTS.exists() else RESULTS_TEMPLATE
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)
