"""Make the benchmark database: schema from Alembic, then users, tags and posts by bulk insert.

The data never goes through the API: PostgreSQL gets it by COPY (asyncpg's
`copy_records_to_table`), SQLite by `executemany` in one transaction. It is deterministic (one
seeded random generator), so every run measures the same rows.
"""

# Table and column names in the SQL below are constants of this module; values are bound.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from passlib.context import CryptContext

from bench.settings import PROJECT_DIR, VENV_BIN, BenchSettings
from blog_api.kit.markdown import reading_time
from blog_api.kit.rules import excerpt

SEED = 2026
# The newest post; every timestamp falls in the year before it.
NEWEST = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600
PUBLISHED_SHARE = 0.9
SHARED_TIMESTAMP_SHARE = 0.1  # posts written at the very same instant as the one before
WHOLE_SECOND_SHARE = 0.3  # timestamps without microseconds (printed without a fraction)
TAGS_PER_POST = 3
DESCRIBED_SHARE = 0.5  # posts with a description

# The word the `q` scenario searches for: in a minority of the posts, never in the vocabulary.
RARE_WORD = "zeppelin"
RARE_WORD_SHARE = 0.05

TAG_NAMES = (
    "python", "rust", "go", "javascript", "typescript", "databases", "postgresql", "sqlite",
    "performance", "testing", "security", "devops", "linux", "networking", "async", "web",
    "api", "design", "architecture", "cloud", "containers", "kubernetes", "observability",
    "logging", "caching", "search", "frontend", "backend", "mobile", "data", "machine-learning",
    "statistics", "career", "teams", "open-source", "tooling", "editors", "git", "ci",
    "deployment", "http", "graphql", "grpc", "queues", "streaming", "storage", "compilers",
    "concurrency", "memory", "hardware",
)  # fmt: skip

VOCABULARY = (  # noqa: SIM905 (a paragraph reads better than 300 quoted words)
    "the a an and or but of to in on for with from by at as into over under between after "
    "before while because although when where which that this these those it its we our you "
    "your they their system service request response query index table column row page cursor "
    "cache memory disk network latency throughput error retry timeout lock transaction commit "
    "rollback schema migration release build test suite coverage profile trace metric log "
    "event loop thread process worker queue stream batch buffer pool connection driver server "
    "client browser user account token session password hash secret key value store record "
    "field type model view route handler middleware framework library package module function "
    "method class object interface pattern design tradeoff choice problem solution idea plan "
    "team project review change patch bug fix feature issue story sprint goal result "
    "measure benchmark number graph chart median average percentile tail spike burst load "
    "traffic capacity scale growth limit budget cost time day week month year morning evening "
    "simple small large fast slow quiet busy careful clear honest useful practical modern old "
    "new early late good better best real common rare stable steady safe strict gentle "
    "write read run start stop wait send receive open close keep drop add remove move copy "
    "learn teach explain show find choose build ship deploy watch notice measure compare "
    "improve reduce avoid prefer expect assume check verify trust doubt fix break "
    "river mountain garden kitchen window harbor forest winter summer autumn spring coffee "
    "bicycle library notebook lantern bridge village island valley meadow orchard"
).split()
TITLE_WORDS = [w for w in VOCABULARY if len(w) > 3]


# The social rows: from a generator of their own, so that the posts stay what they were.
SOCIAL_SEED = 2027
FOLLOWS_PER_USER = 50
MAX_FAVORITES_PER_POST = 50
MAX_COMMENTS_PER_POST = 20


@dataclass(frozen=True, slots=True)
class Social:
    follows: list[tuple[Any, ...]]  # follower_id, followed_id, created_at
    favorites: list[tuple[Any, ...]]  # user_id, post_id, created_at
    comments: list[tuple[Any, ...]]  # id, post_id, author_id, body, created_at, updated_at


@dataclass(frozen=True, slots=True)
class Dataset:
    users: list[tuple[Any, ...]]  # as USER_COLUMNS
    tags: list[tuple[int, str]]
    posts: list[tuple[Any, ...]]  # POST_COLUMNS
    post_tags: list[tuple[int, int]]
    social: Social

    @property
    def published(self) -> int:
        return len(self.published_ids())

    def published_ids(self) -> list[int]:
        published = POST_COLUMNS.index("published")
        return [post[0] for post in self.posts if post[published]]


# Columns the data fills. A column the schema does not have (yet) is left out of the load;
# a required column the schema has and this list lacks stops the load with a clear message.
USER_COLUMNS = (
    "id", "email", "username", "hashed_password", "bio", "is_active", "is_superuser", "role",
    "created_at", "updated_at", "password_changed_at",
)  # fmt: skip
POST_COLUMNS = (
    "id", "author_id", "title", "slug", "content", "excerpt", "published", "created_at",
    "updated_at", "published_at", "title_key", "description", "content_html", "reading_time",
    "status",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TableColumns:
    """The columns a table has, and those it requires (NOT NULL, no default, not the key)."""

    present: frozenset[str]
    required: frozenset[str]

    def fit(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """`columns` and `rows` cut down to the columns the table has."""
        missing = self.required - set(columns)
        if missing:
            raise SystemExit(
                f"bench/seed.py does not fill {table}.{', '.join(sorted(missing))}, which the "
                "schema now requires: add it to the seed data"
            )
        keep = [i for i, name in enumerate(columns) if name in self.present]
        if len(keep) == len(columns):
            return tuple(columns), list(rows)
        return tuple(columns[i] for i in keep), [tuple(row[i] for i in keep) for row in rows]


def _slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _sentence(rng: random.Random, rare: bool) -> str:
    words = rng.choices(VOCABULARY, k=rng.randint(6, 16))
    if rare:
        words[rng.randrange(len(words))] = rng.choice((RARE_WORD, RARE_WORD.capitalize()))
    return " ".join(words).capitalize() + "."


def _content(rng: random.Random) -> str:
    """A few hundred to about 1500 characters of sentences, in paragraphs."""
    target = rng.randint(300, 1500)
    rare_at = rng.randrange(12) if rng.random() < RARE_WORD_SHARE else -1
    sentences: list[str] = []
    length = 0
    while length < target:
        sentence = _sentence(rng, rare=len(sentences) == rare_at)
        sentences.append(sentence)
        length += len(sentence) + 1
    if rare_at >= len(sentences):  # a short post: the rare word goes in its last sentence
        sentences[-1] = _sentence(rng, rare=True)
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n\n".join(paragraphs)


def _rendered(content: str) -> tuple[str, str, int]:
    """What blog_api.kit.markdown.render makes of `_content`'s paragraphs of plain sentences
    (its HTML, excerpt and reading time), without the cost of rendering 100k posts:
    tests/posts/test_content.py checks that both agree."""
    words = content.split()
    html = "".join(f"<p>{paragraph}</p>\n" for paragraph in content.split("\n\n"))
    return html, excerpt(" ".join(words)), reading_time(len(words), 0)


def _timestamp(rng: random.Random, seconds_before_newest: float) -> datetime:
    moment = NEWEST - timedelta(seconds=int(seconds_before_newest))
    if rng.random() >= WHOLE_SECOND_SHARE:
        moment = moment.replace(microsecond=rng.randrange(1, 1_000_000))
    return moment


def _later(rng: random.Random, created: datetime) -> datetime:
    """updated_at: the creation time for most posts, a bit later for some (never past NEWEST)."""
    if rng.random() < 0.8:
        return created
    return min(created + timedelta(seconds=rng.randrange(60, 30 * 24 * 3600)), NEWEST)


def make_dataset(n_users: int, n_posts: int, password_hash: str) -> Dataset:
    rng = random.Random(SEED)
    users = []
    for i in range(1, n_users + 1):
        created = _timestamp(rng, YEAR_SECONDS + rng.random() * YEAR_SECONDS)
        bio = None if i % 3 == 0 else f"Writes about {rng.choice(TAG_NAMES)} and {i % 7} cats."
        users.append(
            (
                i,
                f"user{i:05d}@bench.example",
                f"user{i:05d}",
                password_hash,
                bio,
                True,
                False,
                "author",
                created,
                created,
                created,  # tokens issued after this moment are valid
            )
        )
    tags = list(enumerate(TAG_NAMES, start=1))
    # Oldest first, so that ids grow with created_at as they do in a real table.
    offsets = sorted((rng.random() * YEAR_SECONDS for _ in range(n_posts)), reverse=True)
    posts: list[tuple[Any, ...]] = []
    post_tags: list[tuple[int, int]] = []
    created = NEWEST
    for post_id, offset in enumerate(offsets, start=1):
        if not posts or rng.random() >= SHARED_TIMESTAMP_SHARE:
            created = _timestamp(rng, offset)
        title = " ".join(rng.sample(TITLE_WORDS, rng.randint(3, 7))).capitalize()
        content = _content(rng)
        html, post_excerpt, minutes = _rendered(content)
        published = rng.random() < PUBLISHED_SHARE
        posts.append(
            (
                post_id,
                rng.randint(1, n_users),
                title,
                f"{_slugify(title)}-{post_id}",
                content,
                post_excerpt,
                published,
                created,
                _later(rng, created),
                created if published else None,
                title.casefold(),
                _sentence(rng, rare=False) if rng.random() < DESCRIBED_SHARE else None,
                html,
                minutes,
                "published" if published else "draft",
            )
        )
        for tag_id in rng.sample(range(1, len(TAG_NAMES) + 1), TAGS_PER_POST):
            post_tags.append((post_id, tag_id))
    return Dataset(
        users=users, tags=tags, posts=posts, post_tags=post_tags, social=make_social(users, posts)
    )


def make_social(users: list[tuple[Any, ...]], posts: list[tuple[Any, ...]]) -> Social:
    """FOLLOWS_PER_USER follows per user; 0-50 favorites and 0-20 comments per published post,
    made after the post (comment bodies from a pool of sentences, to keep this quick)."""
    rng = random.Random(SOCIAL_SEED)
    user_ids = [user[0] for user in users]
    follows: list[tuple[Any, ...]] = []
    for follower in user_ids:
        followed = [u for u in rng.sample(user_ids, FOLLOWS_PER_USER + 1) if u != follower]
        for user_id in followed[:FOLLOWS_PER_USER]:
            follows.append((follower, user_id, _timestamp(rng, rng.random() * YEAR_SECONDS)))
    bodies = [_sentence(rng, rare=False) for _ in range(1000)]
    favorites: list[tuple[Any, ...]] = []
    comments: list[tuple[Any, ...]] = []
    published, created_at = POST_COLUMNS.index("published"), POST_COLUMNS.index("created_at")
    for post in posts:
        if not post[published]:
            continue
        written = post[created_at]
        liked = written + timedelta(hours=1)
        for user_id in rng.sample(user_ids, rng.randint(0, MAX_FAVORITES_PER_POST)):
            favorites.append((user_id, post[0], liked))
        for i in range(rng.randint(0, MAX_COMMENTS_PER_POST)):
            moment = written + timedelta(minutes=7 * i + 1)
            comments.append(
                (
                    len(comments) + 1,
                    post[0],
                    rng.choice(user_ids),
                    rng.choice(bodies),
                    moment,
                    moment,
                )
            )
    return Social(follows=follows, favorites=favorites, comments=comments)


def password_hash(password: str, rounds: int) -> str:
    """One real bcrypt hash, shared by every user, so that logins do the real work."""
    context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
    hashed: str = context.hash(password)
    return hashed


def migrate(database_url: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "alembic"), "-x", f"url={database_url}", "upgrade", "head"],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )


def _tables(data: Dataset) -> list[tuple[str, Sequence[str], Sequence[tuple[Any, ...]]]]:
    """What goes into each table, in an order that satisfies the foreign keys."""
    return [
        ("users", USER_COLUMNS, data.users),
        ("tags", ("id", "name"), data.tags),
        ("posts", POST_COLUMNS, data.posts),
        ("post_tags", ("post_id", "tag_id"), data.post_tags),
        ("follows", ("follower_id", "followed_id", "created_at"), data.social.follows),
        ("favorites", ("user_id", "post_id", "created_at"), data.social.favorites),
        ("comments", COMMENT_COLUMNS, data.social.comments),
    ]


COMMENT_COLUMNS = ("id", "post_id", "author_id", "body", "created_at", "updated_at")


# PostgreSQL ---------------------------------------------------------------------------------


async def recreate_pg_database(settings: BenchSettings) -> None:
    try:
        conn = await asyncpg.connect(settings.pg_admin_dsn)
    except OSError as exc:
        raise SystemExit(
            f"PostgreSQL does not answer at {settings.pg_server} ({exc}): start it, "
            "set BENCH_PG_SERVER, or run with BENCH_DB=sqlite"
        ) from None
    try:
        name = settings.pg_database
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def load_postgres(settings: BenchSettings, data: Dataset) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            # Bulk load without firing triggers (counters, foreign keys): the rows are
            # consistent by construction, and the counters are recounted below.
            await conn.execute("SET LOCAL session_replication_role = replica")
            # Secondary indexes are built once at the end, which is many times faster than
            # maintaining them row by row (the trigram GIN indexes above all). They are put
            # back from their own definitions, so the schema stays exactly Alembic's.
            await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            indexes = await conn.fetch(SECONDARY_INDEXES)
            for index in indexes:
                await conn.execute(f'DROP INDEX "{index["name"]}"')
            for table, columns, rows in _tables(data):
                shape = await _pg_columns(conn, table)
                columns, rows = shape.fit(table, columns, rows)
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            for index in indexes:
                await conn.execute(index["definition"])
            for table in ("users", "tags", "posts", "comments"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            for statement in RECOUNT:
                await conn.execute(statement)
        # Visibility map and planner statistics, as autovacuum would leave a live database.
        await conn.execute("VACUUM (ANALYZE)")
        # Write the load out now, not as a checkpoint in the middle of the first measurements.
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def _pg_columns(conn: asyncpg.Connection, table: str) -> TableColumns:
    rows = await conn.fetch(
        "SELECT column_name, is_nullable = 'NO' AND column_default IS NULL AS required "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = $1",
        table,
    )
    return TableColumns(
        present=frozenset(r["column_name"] for r in rows),
        required=frozenset(
            r["column_name"] for r in rows if r["required"] and r["column_name"] != "id"
        ),
    )


# Indexes that back no constraint (primary keys and unique constraints stay in place).
SECONDARY_INDEXES = """
SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema()
  AND t.relname IN ('users', 'tags', 'posts', 'post_tags', 'follows', 'favorites', 'comments')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
ORDER BY i.relname
"""

# The counters, recounted from the rows (the load bypassed or outran the triggers): one
# settled row per counter, as a fold leaves them.
RECOUNT = (
    "DELETE FROM counter_deltas",
    """
    INSERT INTO counter_deltas (name, key, delta, pending)
    SELECT 'published_posts', 0, count(*), false FROM posts WHERE published
    UNION ALL
    SELECT 'user_posts', author_id, count(*), false FROM posts WHERE published GROUP BY author_id
    UNION ALL
    SELECT 'tag_posts', post_tags.tag_id, count(*), false
    FROM post_tags JOIN posts ON posts.id = post_tags.post_id
    WHERE posts.published GROUP BY post_tags.tag_id
    UNION ALL
    SELECT 'post_favorites', post_id, count(*), false FROM favorites GROUP BY post_id
    UNION ALL
    SELECT 'post_comments', post_id, count(*), false FROM comments GROUP BY post_id
    UNION ALL
    SELECT 'user_followers', followed_id, count(*), false FROM follows GROUP BY followed_id
    UNION ALL
    SELECT 'user_following', follower_id, count(*), false FROM follows GROUP BY follower_id
    """,
)


# SQLite -------------------------------------------------------------------------------------


def _sqlite_columns(conn: sqlite3.Connection, table: str) -> TableColumns:
    # PRAGMA table_info: cid, name, type, notnull, dflt_value, pk
    info = conn.execute(f"PRAGMA table_info({table})").fetchall()
    return TableColumns(
        present=frozenset(row[1] for row in info),
        required=frozenset(row[1] for row in info if row[3] and row[4] is None and not row[5]),
    )


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC, always six fraction digits)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_rows(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in row)


def load_sqlite(settings: BenchSettings, data: Dataset) -> None:
    conn = sqlite3.connect(settings.sqlite_path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("BEGIN")
        for table, all_columns, all_rows in _tables(data):
            columns, rows = _sqlite_columns(conn, table).fit(table, all_columns, all_rows)
            marks = ", ".join("?" * len(columns))
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                _sqlite_rows(rows),
            )
        for statement in RECOUNT:
            conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def remove_sqlite_files(settings: BenchSettings) -> None:
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def seed(settings: BenchSettings) -> Dataset:
    """Drop and recreate the bench database, migrate it, fill it. Returns what went in."""
    started = time.perf_counter()
    if settings.is_sqlite:
        remove_sqlite_files(settings)
    else:
        asyncio.run(recreate_pg_database(settings))
    migrate(settings.database_url)
    migrated = time.perf_counter()
    data = make_dataset(
        settings.users, settings.posts, password_hash(settings.password, settings.bcrypt_rounds)
    )
    generated = time.perf_counter()
    if settings.is_sqlite:
        load_sqlite(settings, data)
    else:
        asyncio.run(load_postgres(settings, data))
    loaded = time.perf_counter()
    print(
        f"seeded {len(data.users)} users, {len(data.posts)} posts ({data.published} published), "
        f"{len(data.post_tags)} tag links: migrate {migrated - started:.1f}s, "
        f"generate {generated - migrated:.1f}s, load {loaded - generated:.1f}s",
        flush=True,
    )
    return data


if __name__ == "__main__":
    seed(BenchSettings.from_env())
