"""The reference: the bench's requests answered with the most direct code there is.

Starlette routes, raw asyncpg (or aiosqlite) with hand-written SQL, orjson, no ORM, no
validation layer, no dependency injection. It answers the requests `make bench` sends with the
same JSON as blog-api (same fields, order and values; the bench checks this before measuring),
so the ratio app/reference is what the app's layers cost on the same database work.

Where the SQL differs from what the app sends, it is on purpose, the most direct form:
- reads run without BEGIN/COMMIT (one statement is its own transaction);
- the total of the unfiltered list, of one tag's and of one author's is the sum of a counter's
  rows (as in the app), else counted;
- counts are sums over the counter rows, per post, in the page's query;
- a tag filter is a join on `post_tags` rather than `id IN (subquery)`.

A login checks the password in a worker thread (anyio's default pool, one thread per login),
the plain way to keep bcrypt off the event loop; the login burst compares the app's loop lag
with that.

Run as `uvicorn bench.reference:app` with `BENCH_REF_DATABASE_URL` (postgresql://... or
sqlite:///...), `SECRET_KEY` and `BCRYPT_ROUNDS` in the environment.
"""

# The SQL is assembled from constant fragments with f-strings; every value is bound ($n).
# ruff: noqa: S608

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl

import aiosqlite
import anyio.to_thread
import asyncpg
import jwt
import orjson
from passlib.context import CryptContext
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from blog_api.kit.markdown import render

MAX_PER_PAGE = 100
TOKEN_MINUTES = 15
REFRESH_DAYS = 30
POOL_SIZE = 20  # the app's pool_size + max_overflow
SQLITE_CONNECTIONS = 8  # each aiosqlite connection is a thread of its own
SQLITE_BUSY_SECONDS = 30


# Database access: one SQL text for both databases ($1, $2 ... become ?1, ?2 ... on SQLite) --


class Database(Protocol):
    is_sqlite: bool

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...

    def time(self, value: Any) -> datetime: ...

    def bind_time(self, value: datetime) -> Any: ...


class Connection(Protocol):
    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...


class PostgresDatabase:
    is_sqlite = False

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        rows: Sequence[Sequence[Any]] = await self.pool.fetch(sql, *args)
        return rows

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.pool.fetchval(sql, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    def time(self, value: Any) -> datetime:
        moment: datetime = value
        return moment

    def bind_time(self, value: datetime) -> Any:
        return value


class _SqliteConnection:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        async with self.conn.execute(_qmarks(sql), args) as cursor:
            return list(await cursor.fetchall())

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None


class SqliteDatabase:
    """A fixed pool of aiosqlite connections, set up as blog-api sets up its own."""

    is_sqlite = True

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.size = size
        self.idle: list[_SqliteConnection] = []
        self.available = anyio.Semaphore(size)

    async def open(self) -> None:
        for _ in range(self.size):
            conn = await aiosqlite.connect(
                self.path, isolation_level=None, timeout=SQLITE_BUSY_SECONDS
            )
            for pragma in (
                "PRAGMA foreign_keys=ON",
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}",
            ):
                await conn.execute(pragma)
            self.idle.append(_SqliteConnection(conn))

    async def close(self) -> None:
        for conn in self.idle:
            await conn.conn.close()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[_SqliteConnection]:
        async with self.available:
            conn = self.idle.pop()
            try:
                yield conn
            finally:
                self.idle.append(conn)

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        async with self.acquire() as conn:
            return await conn.fetch(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(sql, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.acquire() as conn:
            await conn.conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.conn.execute("ROLLBACK")
                raise
            await conn.conn.execute("COMMIT")

    def time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def bind_time(self, value: datetime) -> Any:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_DOLLAR = re.compile(r"\$(\d+)")


def _qmarks(sql: str) -> str:
    return _DOLLAR.sub(r"?\1", sql)


def _marks(count: int, start: int = 1) -> str:
    """`$1, $2, ...`: placeholders for a list of values (SQLite has no arrays)."""
    return ", ".join(f"${i}" for i in range(start, start + count))


# Shapes -------------------------------------------------------------------------------------


def _dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=orjson.OPT_UTC_Z)


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    all_headers = {"x-request-id": uuid.uuid4().hex, **(headers or {})}
    return Response(_dumps(content), status, all_headers, media_type="application/json")


def problem(status: int, detail: str) -> Response:
    body = {"type": "about:blank", "title": "Error", "status": status, "detail": detail}
    return Response(_dumps(body), status, media_type="application/problem+json")


class BadRequest(Exception):  # noqa: N818
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _count(name: str) -> str:
    return (
        f"(SELECT coalesce(sum(delta), 0) FROM counter_deltas WHERE name = '{name}' AND key = p.id)"
    )


# One SELECT list for the post (p), its author (u) and its counts, in the JSON's order.
POST_COLUMNS = (
    "p.id, p.title, p.slug, p.description, p.published, p.published_at, "
    "u.id, u.username, u.bio, u.image, u.created_at, "
    f"{_count('post_favorites')}, {_count('post_comments')}, p.created_at, p.updated_at, "
    "p.title_key"
)


# What follows POST_COLUMNS: a PostSummary's text and presentation fields, and a Post's (its
# Markdown, HTML and SEO fields added), in the JSON's order.
SUMMARY_TAIL = (
    "excerpt", "reading_time", "feature_image", "feature_image_alt", "feature_image_caption",
    "featured",
)  # fmt: skip
WHOLE_TAIL = (
    *SUMMARY_TAIL, "content", "content_html", "meta_title", "meta_description",
    "canonical_url", "og_title", "og_description", "og_image",
)  # fmt: skip
BOOLEAN_TAIL = frozenset({"featured"})


def tail_columns(tail: Sequence[str]) -> str:
    return ", ".join(f"p.{name}" for name in tail)


def post_json(
    db: Database,
    row: Sequence[Any],
    tags: list[str],
    tail: Sequence[str],
    favorited: bool = False,
) -> dict[str, Any]:
    """A PostSummary (tail SUMMARY_TAIL) or a Post (WHOLE_TAIL): the tail from column 16 on.
    An anonymous reader has favorited nothing."""
    return {
        "id": row[0],
        "title": row[1],
        "slug": row[2],
        "description": row[3],
        "published": bool(row[4]),
        # The seed writes no scheduled posts, and the reference serves published ones only.
        "status": "published" if row[4] else "draft",
        "published_at": None if row[5] is None else db.time(row[5]),
        "author": {
            "id": row[6],
            "username": row[7],
            "bio": row[8],
            "image": row[9],
            "created_at": db.time(row[10]),
        },
        "tags": tags,
        "favorites_count": row[11],
        "comments_count": row[12],
        "favorited": favorited,
        "created_at": db.time(row[13]),
        "updated_at": db.time(row[14]),
        **{
            name: bool(value) if name in BOOLEAN_TAIL else value
            for name, value in zip(tail, row[16 : 16 + len(tail)], strict=True)
        },
    }


def _sort_value(db: Database, row: Sequence[Any], column: str) -> Any:
    """The row's value of a sort column, as a cursor holds it."""
    index = {"published_at": 5, "created_at": 13, "title_key": 15}[column]
    return row[index] if column == "title_key" else db.time(row[index])


async def tags_of(db: Database, post_ids: list[int]) -> dict[int, list[str]]:
    """The tag names of each post, sorted: one query for any number of posts."""
    found: dict[int, list[str]] = {post_id: [] for post_id in post_ids}
    if not post_ids:
        return found
    args: list[Any]
    if db.is_sqlite:
        where, args = f"pt.post_id IN ({_marks(len(post_ids))})", post_ids
    else:
        where, args = "pt.post_id = ANY($1::int[])", [post_ids]
    rows = await db.fetch(
        "SELECT pt.post_id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
        f"WHERE {where} ORDER BY t.name",
        *args,
    )
    for post_id, name in rows:
        found[post_id].append(name)
    return found


# Cursors: base64url (no padding) of compact JSON {"l": "posts", "s": sort, "k": [value, id]}

SORTS = {
    # sort: (column, descending)
    "-published_at": ("published_at", True),
    "published_at": ("published_at", False),
    "-created_at": ("created_at", True),
    "created_at": ("created_at", False),
    "title": ("title_key", False),
    "-title": ("title_key", True),
}


def scope_digest(scope: object) -> str | None:
    """What a cursor carries as "f": a digest of what selects its list's rows (the app's
    listing._digest), None for a list without one."""
    if scope is None:
        return None
    text = json.dumps(scope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def posts_scope(author: str | None, tag: str | None, q: str | None, feed_of: int | None) -> Any:
    """A posts list's scope, as the app's PostFilter.scope: None for every published post."""
    scope = [True, None, None if author is None else author.lower(), tag, q or None, None, feed_of]
    return None if scope == [True, None, None, None, None, None, None] else scope


def encode_cursor(sort: str, value: Any, row_id: int, scope: object) -> str:
    data: dict[str, Any] = {"l": "posts", "s": sort, "k": [value, row_id]}
    if scope is not None:
        data["f"] = scope_digest(scope)
    raw = orjson.dumps(data, option=orjson.OPT_UTC_Z)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, sort: str, scope: object) -> tuple[str, int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        made_for, (value, row_id) = (data["l"], data["s"], data.get("f")), data["k"]
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
        raise BadRequest(422, "The cursor is malformed") from None
    if (
        made_for != ("posts", sort, scope_digest(scope))
        or not isinstance(value, str)
        or not isinstance(row_id, int)
    ):
        raise BadRequest(422, "The cursor is malformed or made for another list or sort")
    return value, row_id


# Routes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListRequest:
    """GET /api/v1/posts's query: page mode (`page`) or cursor mode (`after`)."""

    per_page: int
    sort: str
    page: int | None
    after: tuple[str, int] | None
    author: str | None
    tag: str | None
    q: str | None

    @property
    def filtered(self) -> bool:
        return self.author is not None or self.tag is not None or bool(self.q)

    @classmethod
    def parse(cls, params: dict[str, str], feed_of: int | None = None) -> ListRequest:
        sort = params.get("sort", "-published_at")
        if sort not in SORTS:
            raise BadRequest(422, "Unknown sort")
        cursor = params.get("cursor")
        if cursor is not None and "page" in params:
            raise BadRequest(422, "Send page or cursor, not both")
        tag = params.get("tag")
        tag = None if tag is None else tag.strip().lower()
        author, q = params.get("author"), params.get("q")
        scope = posts_scope(author, tag, q, feed_of)
        return cls(
            per_page=_int_param(params, "per_page", 20, MAX_PER_PAGE),
            sort=sort,
            page=None if cursor is not None else _int_param(params, "page", 1),
            after=None if cursor is None else decode_cursor(cursor, sort, scope),
            author=author,
            tag=tag,
            q=q,
        )


def _int_param(params: dict[str, str], name: str, default: int, high: int | None = None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(422, f"{name} must be an integer") from None
    if value < 1 or (high is not None and value > high):
        raise BadRequest(422, f"{name} is out of range")
    return value


@dataclass(slots=True)
class Where:
    """A WHERE clause being built, with its values bound in order as $1, $2, ..."""

    conditions: list[str]
    joins: str = ""
    args: list[Any] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    @property
    def sql(self) -> str:
        return f"{self.joins} WHERE {' AND '.join(self.conditions)}"


def _escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _filters(db: Database, req: ListRequest) -> Where:
    where = Where(["p.published = TRUE"])
    if req.author is not None:
        name = where.bind(req.author)
        where.conditions.append(
            f"p.author_id IN (SELECT id FROM users WHERE lower(username) = lower({name}))"
        )
    if req.tag is not None:
        where.joins = " JOIN post_tags pt ON pt.post_id = p.id JOIN tags t ON t.id = pt.tag_id"
        where.conditions.append(f"t.name = {where.bind(req.tag)}")
    if req.q:  # the app's own predicate (SQLAlchemy's icontains) on each database
        text = where.bind(_escape_like(req.q))
        if db.is_sqlite:
            match = "lower(p.{}) LIKE '%' || lower(" + text + ") || '%' ESCAPE '/'"
        else:
            match = "p.{} ILIKE '%' || " + text + " || '%' ESCAPE '/'"
        where.conditions.append(f"({match.format('title')} OR {match.format('content')})")
    return where


_KEPT_TOTAL = "SELECT coalesce(sum(delta), 0) FROM counter_deltas WHERE name = "


async def _total(request: Request, req: ListRequest, where: Where) -> int:
    """The exact total: a counter's sum where one counts the list (no filter, one tag, one
    author, as the app does), else counted."""
    db: Database = request.app.state.db
    if not req.filtered:
        total: int = await db.fetchval(_KEPT_TOTAL + "'published_posts' AND key = 0")
    elif req.tag is not None and req.author is None and not req.q:
        sql = _KEPT_TOTAL + "'tag_posts' AND key = (SELECT id FROM tags WHERE name = $1)"
        total = await db.fetchval(sql, req.tag)
    elif req.author is not None and req.tag is None and not req.q:
        sql = (
            _KEPT_TOTAL + "'user_posts' AND key = "
            "(SELECT id FROM users WHERE lower(username) = lower($1))"
        )
        total = await db.fetchval(sql, req.author)
    else:
        total = await db.fetchval(f"SELECT count(*) FROM posts p{where.sql}", *where.args)
    return total


def _favorited(viewer: str) -> str:
    """Whether the viewer (a bound parameter) favorited the post p."""
    return f"EXISTS (SELECT 1 FROM favorites f WHERE f.user_id = {viewer} AND f.post_id = p.id)"


async def _page_rows(
    db: Database,
    req: ListRequest,
    where: Where,
    limit: int,
    offset: int,
    viewer: str | None = None,
) -> Sequence[Sequence[Any]]:
    column, descending = SORTS[req.sort]
    direction = "DESC" if descending else "ASC"
    if req.after is not None:
        value, row_id = req.after
        key = value if column == "title_key" else db.bind_time(datetime.fromisoformat(value))
        where.conditions.append(
            f"(p.{column}, p.id) {'<' if descending else '>'} "
            f"({where.bind(key)}, {where.bind(row_id)})"
        )
    window = f"LIMIT {where.bind(limit)}"
    if offset:
        window += f" OFFSET {where.bind(offset)}"
    sql = (
        f"SELECT {POST_COLUMNS}, {tail_columns(SUMMARY_TAIL)}"
        f"{'' if viewer is None else ', ' + _favorited(viewer)} "
        "FROM posts p JOIN users u ON u.id = p.author_id"
        f"{where.sql} ORDER BY p.{column} {direction}, p.id {direction} {window}"
    )
    return await db.fetch(sql, *where.args)


async def list_posts(request: Request) -> Response:
    return await _list(request, dict(request.query_params), None)


async def feed(request: Request) -> Response:
    """GET /api/v1/feed: published posts by the authors the caller follows, -published_at."""
    viewer = await _viewer(request)
    if isinstance(viewer, Response):
        return viewer
    if viewer is None:
        return problem(401, "Not authenticated")
    params = {k: v for k, v in request.query_params.items() if k != "sort"}
    return await _list(request, params, viewer)


async def _list(request: Request, params: dict[str, str], feed_of: int | None) -> Response:
    db: Database = request.app.state.db
    try:
        req = ListRequest.parse(params, feed_of)
    except BadRequest as exc:
        return problem(exc.status, exc.detail)
    where = _filters(db, req)
    viewer = None
    if feed_of is not None:
        viewer = where.bind(feed_of)
        where.conditions.append(
            f"p.author_id IN (SELECT followed_id FROM follows WHERE follower_id = {viewer})"
        )
    if req.page is None:  # cursor mode: one row more than a page tells whether there is more
        total = None
        rows = await _page_rows(db, req, where, req.per_page + 1, 0, viewer)
        more = len(rows) > req.per_page
        rows = rows[: req.per_page]
    else:  # page mode: the total, then the page (none past the end)
        if feed_of is None:
            total = await _total(request, req, where)
        else:
            total = await db.fetchval(f"SELECT count(*) FROM posts p{where.sql}", *where.args)
        offset = (req.page - 1) * req.per_page
        rows = (
            await _page_rows(db, req, where, req.per_page, offset, viewer) if offset < total else []
        )
        more = offset + len(rows) < total
    tags = await tags_of(db, [row[0] for row in rows])
    items = [
        post_json(
            db,
            row,
            tags[row[0]],
            SUMMARY_TAIL,
            viewer is not None and bool(row[16 + len(SUMMARY_TAIL)]),
        )
        for row in rows
    ]
    next_cursor = None
    if more and items:
        value = _sort_value(db, rows[-1], SORTS[req.sort][0])
        scope = posts_scope(req.author, req.tag, req.q, feed_of)
        next_cursor = encode_cursor(req.sort, value, items[-1]["id"], scope)
    return json_response(
        {
            "items": items,
            "total": total,
            "page": req.page,
            "per_page": req.per_page,
            "pages": None if total is None else -(-total // req.per_page),
            "next_cursor": next_cursor,
        }
    )


async def get_post(request: Request) -> Response:
    db: Database = request.app.state.db
    post_id: int = request.path_params["post_id"]
    viewer = await _viewer(request)
    if isinstance(viewer, Response):
        return viewer
    return await _post_answer(db, post_id, viewer)


async def _viewer(request: Request) -> int | Response | None:
    """The caller's user id from a bearer token (None without one), checked as the app checks
    it: a valid signature and expiry, a user that exists, is active, and has not changed their
    password since the token was issued; else a 401 (403 when inactive)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return problem(401, "Not authenticated")
    user = await _session_user(request, token, "u.id")
    return user if isinstance(user, Response) else int(user[0])


def _claims(request: Request, token: str) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            request.app.state.secret,
            algorithms=["HS256"],
            options={"require": ["sub", "sid", "exp", "iat", "auth_time"]},
        )
        int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
    return claims


async def _session_user(request: Request, token: str, columns: str) -> Any:
    """`columns` of the token's user (`u`), in the one statement that also checks that the
    token's session lives, as the app does; else a 401 (403 for an inactive user)."""
    claims = _claims(request, token)
    if claims is None:
        return problem(401, "The access token is invalid or expired")
    db: Database = request.app.state.db
    rows = await db.fetch(
        f"SELECT {columns}, u.is_active, EXISTS (SELECT 1 FROM sessions s WHERE s.id = $2 "
        "AND s.user_id = u.id AND s.expires_at > $3) FROM users u WHERE u.id = $1",
        int(claims["sub"]),
        str(claims["sid"]),
        db.bind_time(datetime.now(UTC)),
    )
    if not rows:
        return problem(401, "The access token's user no longer exists")
    if not rows[0][-1]:
        return problem(401, "The access token's session has ended")
    if not rows[0][-2]:
        return problem(403, "This account is inactive")
    return rows[0]


async def list_comments(request: Request) -> Response:
    """GET /api/v1/posts/{id}/comments: a page of a published post's comments, oldest first,
    the total from the post's counter."""
    db: Database = request.app.state.db
    post_id: int = request.path_params["post_id"]
    try:
        per_page = _int_param(dict(request.query_params), "per_page", 20, MAX_PER_PAGE)
        page = _int_param(dict(request.query_params), "page", 1)
    except BadRequest as exc:
        return problem(exc.status, exc.detail)
    if not await db.fetch("SELECT 1 FROM posts WHERE id = $1 AND published = TRUE", post_id):
        return problem(404, f"Post {post_id} not found")
    total = int(
        await db.fetchval(
            "SELECT coalesce(sum(delta), 0) FROM counter_deltas "
            "WHERE name = 'post_comments' AND key = $1",
            post_id,
        )
    )
    offset = (page - 1) * per_page
    rows: Sequence[Sequence[Any]] = []
    if offset < total:
        rows = await db.fetch(
            "SELECT c.id, c.post_id, c.body, u.id, u.username, u.bio, u.image, u.created_at, "
            "c.created_at, c.updated_at FROM comments c JOIN users u ON u.id = c.author_id "
            "WHERE c.post_id = $1 ORDER BY c.created_at, c.id LIMIT $2 OFFSET $3",
            post_id,
            per_page,
            offset,
        )
    items = [
        {
            "id": row[0],
            "post_id": row[1],
            "body": row[2],
            "author": {
                "id": row[3],
                "username": row[4],
                "bio": row[5],
                "image": row[6],
                "created_at": db.time(row[7]),
            },
            "created_at": db.time(row[8]),
            "updated_at": db.time(row[9]),
        }
        for row in rows
    ]
    next_cursor = None
    if items and offset + len(items) < total:
        last = items[-1]
        raw = orjson.dumps(
            {
                "l": "comments",
                "s": "created_at",
                "k": [last["created_at"], last["id"]],
                "f": scope_digest(post_id),
            },
            option=orjson.OPT_UTC_Z,
        )
        next_cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return json_response(
        {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": -(-total // per_page),
            "next_cursor": next_cursor,
        }
    )


async def login(request: Request) -> Response:
    db: Database = request.app.state.db
    form = dict(parse_qsl((await request.body()).decode("utf-8")))
    username, password = form.get("username", ""), form.get("password", "")
    by = "email" if "@" in username else "lower(username)"
    rows = await db.fetch(
        f"SELECT id, hashed_password, is_active FROM users WHERE {by} = lower($1)",
        username,
    )
    crypt: CryptContext = request.app.state.crypt
    hashed = rows[0][1] if rows else request.app.state.dummy_hash
    ok, _ = await anyio.to_thread.run_sync(crypt.verify_and_update, password, hashed)
    if not (rows and ok):
        return problem(401, "Incorrect username or password")
    if not rows[0][2]:
        return problem(403, "This account is inactive")
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=TOKEN_MINUTES)
    session_id = uuid.uuid4().hex
    claims = {
        "sub": str(rows[0][0]),
        "sid": session_id,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": now.timestamp(),
    }
    token = jwt.encode(claims, request.app.state.secret, algorithm="HS256")
    refresh = secrets.token_urlsafe(32)
    refresh_lifetime = timedelta(days=REFRESH_DAYS)
    async with db.transaction() as conn:
        await conn.fetch(
            "INSERT INTO sessions (id, user_id, authenticated_at, expires_at) "
            "VALUES ($1, $2, $3, $4)",
            session_id,
            rows[0][0],
            db.bind_time(now),
            db.bind_time(now + refresh_lifetime),
        )
        await conn.fetch(
            "INSERT INTO refresh_tokens (user_id, session_id, token_hash, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            rows[0][0],
            session_id,
            hashlib.sha256(refresh.encode()).hexdigest(),
            db.bind_time(now),
            db.bind_time(now + refresh_lifetime),
        )
    return json_response(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(lifetime.total_seconds()),
            "refresh_token": refresh,
            "refresh_expires_in": int(refresh_lifetime.total_seconds()),
        }
    )


_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_TAG = re.compile(r"[a-z0-9_-]{1,32}")


def slugify(title: str) -> str:
    return _SLUG_JUNK.sub("-", title.lower()).strip("-")[:80].rstrip("-") or "post"


async def create_post(request: Request) -> Response:
    db: Database = request.app.state.db
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return problem(401, "Not authenticated")
    try:
        data = orjson.loads(await request.body())
        title = str(data["title"]).strip()
        content = str(data["content"])
        published = bool(data.get("published", False))
        description = data.get("description")
        tags = sorted({str(name).strip().lower() for name in data.get("tags", [])})
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return problem(422, "Invalid post")
    if not (0 < len(title) <= 200 and 0 < len(content) <= 100_000 and len(tags) <= 10):
        return problem(422, "Invalid post")
    if not all(_TAG.fullmatch(name) for name in tags):
        return problem(422, "Invalid tag")

    author = await _session_user(request, token, "u.id, u.username, u.bio, u.image, u.created_at")
    if isinstance(author, Response):
        return author
    # Rendered off the event loop, as the app does.
    rendered = await anyio.to_thread.run_sync(render, content)
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        tag_ids = await _get_or_create_tags(db, conn, tags)
        base = slugify(title)
        post_id = None
        slug = base
        for attempt in range(8):
            slug = base if attempt == 0 else f"{base}-{secrets.token_hex(3)}"
            post_id = await conn.fetchval(
                "INSERT INTO posts (author_id, title, title_key, slug, content, excerpt, "
                "description, published, published_at, created_at, updated_at, content_html, "
                "reading_time, status) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13) "
                "ON CONFLICT (slug) DO NOTHING RETURNING id",
                author[0],
                title,
                title.casefold(),
                slug,
                content,
                rendered.excerpt,
                description,
                published,
                db.bind_time(now) if published else None,
                db.bind_time(now),
                rendered.html,
                rendered.reading_time,
                "published" if published else "draft",
            )
            if post_id is not None:
                break
        if post_id is None:
            return problem(500, "No free slug")
        for tag_id in tag_ids:
            await conn.fetch(
                "INSERT INTO post_tags (post_id, tag_id) VALUES ($1, $2)", post_id, tag_id
            )
    body = {
        "id": post_id,
        "title": title,
        "slug": slug,
        "description": description,
        "published": published,
        "status": "published" if published else "draft",
        "published_at": now if published else None,
        "author": {
            "id": author[0],
            "username": author[1],
            "bio": author[2],
            "image": author[3],
            "created_at": db.time(author[4]),
        },
        "tags": tags,
        "favorites_count": 0,
        "comments_count": 0,
        "favorited": False,
        "created_at": now,
        "updated_at": now,
        "excerpt": rendered.excerpt,
        "reading_time": rendered.reading_time,
        **dict.fromkeys(("feature_image", "feature_image_alt", "feature_image_caption")),
        "featured": False,
        "content": content,
        "content_html": rendered.html,
        **dict.fromkeys(WHOLE_TAIL[-6:]),
    }
    return json_response(body, 201, {"location": f"/api/v1/posts/{post_id}"})


async def patch_post(request: Request) -> Response:
    """PATCH /api/v1/posts/{id} with a title and/or content, by its author: one plain UPDATE
    (no revision, no slug history), then the post as GET answers it."""
    db: Database = request.app.state.db
    post_id: int = request.path_params["post_id"]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return problem(401, "Not authenticated")
    try:
        data = orjson.loads(await request.body())
        title = None if "title" not in data else str(data["title"]).strip()
        content = None if "content" not in data else str(data["content"])
    except (orjson.JSONDecodeError, TypeError, AttributeError):
        return problem(422, "Invalid post")
    if (title is not None and not 0 < len(title) <= 200) or (
        content is not None and not 0 < len(content) <= 100_000
    ):
        return problem(422, "Invalid post")
    author = await _session_user(request, token, "u.id")
    if isinstance(author, Response):
        return author
    rendered = None if content is None else await anyio.to_thread.run_sync(render, content)
    async with db.transaction() as conn:
        changed = await conn.fetchval(
            "UPDATE posts SET title = coalesce($3, title), title_key = coalesce($4, title_key), "
            "content = coalesce($5, content), content_html = coalesce($6, content_html), "
            "excerpt = coalesce($7, excerpt), reading_time = coalesce($8, reading_time), "
            "updated_at = $9 WHERE id = $1 AND author_id = $2 AND published = TRUE RETURNING id",
            post_id,
            author[0],
            title,
            None if title is None else title.casefold(),
            content,
            None if rendered is None else rendered.html,
            None if rendered is None else rendered.excerpt,
            None if rendered is None else rendered.reading_time,
            db.bind_time(datetime.now(UTC)),
        )
    if changed is None:
        return problem(404, f"Post {post_id} not found")
    return await _post_answer(db, post_id, int(author[0]))


async def _post_answer(db: Database, post_id: int, viewer: int | None) -> Response:
    """The published post as GET /api/v1/posts/{id} answers it to `viewer`."""
    favorited = "FALSE" if viewer is None else _favorited("$2")
    rows = await db.fetch(
        f"SELECT {POST_COLUMNS}, {tail_columns(WHOLE_TAIL)}, {favorited} "
        "FROM posts p JOIN users u ON u.id = p.author_id "
        "WHERE p.id = $1 AND p.published = TRUE",
        post_id,
        *([] if viewer is None else [viewer]),
    )
    if not rows:
        return problem(404, f"Post {post_id} not found")
    tags = await tags_of(db, [post_id])
    favorited_at = 16 + len(WHOLE_TAIL)
    return json_response(
        post_json(db, rows[0], tags[post_id], WHOLE_TAIL, bool(rows[0][favorited_at]))
    )


async def _get_or_create_tags(db: Database, conn: Connection, names: list[str]) -> list[int]:
    if not names:
        return []
    rows_of_names = ", ".join(f"(${i})" for i in range(1, len(names) + 1))
    await conn.fetch(
        f"INSERT INTO tags (name) VALUES {rows_of_names} ON CONFLICT DO NOTHING",
        *names,
    )
    if db.is_sqlite:
        in_list = _marks(len(names))
        rows = await conn.fetch(f"SELECT id FROM tags WHERE name IN ({in_list})", *names)
    else:
        rows = await conn.fetch("SELECT id FROM tags WHERE name = ANY($1::text[])", names)
    return sorted(row[0] for row in rows)


# The RealWorld face: GET /api/articles?limit=&offset= (no filter, anonymous) ----------------


def _realworld_time(db: Database, value: Any) -> str:
    """RealWorld timestamps: UTC, always with microseconds."""
    return db.time(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def realworld_articles(request: Request) -> Response:
    """The global article list of the RealWorld face, as an anonymous reader sees it: the total
    from the published-posts counter, then one page (newest publication first) with each
    article's favorites counter and its author, then the page's tags."""
    db: Database = request.app.state.db
    params = dict(request.query_params)
    try:
        limit = int(params.get("limit", "20"))
        offset = int(params.get("offset", "0"))
    except ValueError:
        return json_response({"errors": {"limit": ["is not a number"]}}, 422)
    if not (1 <= limit <= MAX_PER_PAGE and offset >= 0):
        return json_response({"errors": {"limit": ["is out of range"]}}, 422)
    total: int = await db.fetchval(
        "SELECT coalesce(sum(delta), 0) FROM counter_deltas "
        "WHERE name = 'published_posts' AND key = 0"
    )
    rows: Sequence[Sequence[Any]] = []
    if offset < total:
        rows = await db.fetch(
            "SELECT p.id, p.slug, p.title, p.description, p.created_at, p.updated_at, "
            "(SELECT coalesce(sum(delta), 0) FROM counter_deltas "
            "WHERE name = 'post_favorites' AND key = p.id), u.username, u.bio, u.image "
            "FROM posts p JOIN users u ON u.id = p.author_id WHERE p.published = TRUE "
            "ORDER BY p.published_at DESC, p.id DESC LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
    tags = await tags_of(db, [row[0] for row in rows])
    articles = [
        {
            "slug": row[1],
            "title": row[2],
            "description": row[3] if row[3] is not None else "",
            "tagList": tags[row[0]],
            "createdAt": _realworld_time(db, row[4]),
            "updatedAt": _realworld_time(db, row[5]),
            "favorited": False,
            "favoritesCount": int(row[6]),
            "author": {"username": row[7], "bio": row[8], "image": row[9], "following": False},
        }
        for row in rows
    ]
    return json_response({"articles": articles, "articlesCount": int(total)})


async def realworld_tags(request: Request) -> Response:
    """GET /api/tags: every tag on a published post (the tag's counter above 0), most used
    first, then by name compared bytewise, uncapped."""
    db: Database = request.app.state.db
    by_name = "t.name" if db.is_sqlite else 't.name COLLATE "C"'
    rows = await db.fetch(
        "SELECT t.name FROM tags t JOIN (SELECT key, sum(delta) AS value FROM counter_deltas "
        "WHERE name = 'tag_posts' GROUP BY key) c ON c.key = t.id WHERE c.value > 0 "
        f"ORDER BY c.value DESC, {by_name}, t.id"
    )
    return json_response({"tags": [row[0] for row in rows]})


async def health(_: Request) -> Response:
    return json_response({"status": "ok"})


# The application ----------------------------------------------------------------------------


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[Database]:
    if url.startswith("sqlite"):
        sqlite_db = SqliteDatabase(url.split(":///", 1)[1], size=SQLITE_CONNECTIONS)
        await sqlite_db.open()
        try:
            yield sqlite_db
        finally:
            await sqlite_db.close()
        return
    async with asyncpg.create_pool(url, min_size=1, max_size=POOL_SIZE) as pool:
        yield PostgresDatabase(pool)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    rounds = int(os.environ.get("BCRYPT_ROUNDS", "12"))
    app.state.secret = os.environ["SECRET_KEY"]
    app.state.crypt = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
    app.state.dummy_hash = app.state.crypt.hash("reference-dummy-password")
    async with open_database(os.environ["BENCH_REF_DATABASE_URL"]) as db:
        app.state.db = db
        yield


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/api/v1/auth/token", login, methods=["POST"]),
        Route("/api/v1/posts", list_posts),
        Route("/api/v1/posts", create_post, methods=["POST"]),
        Route("/api/v1/posts/{post_id:int}", get_post),
        Route("/api/v1/posts/{post_id:int}", patch_post, methods=["PATCH"]),
        Route("/api/v1/posts/{post_id:int}/comments", list_comments),
        Route("/api/v1/feed", feed),
        Route("/api/articles", realworld_articles),
        Route("/api/tags", realworld_tags),
    ],
    lifespan=lifespan,
)
