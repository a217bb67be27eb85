"""One kit for every list: keyset cursors, windows (page, cursor, offset), the page.

A list is a `Listing`: a name and, per value of its sort enum, the ordered keys of its rows,
ending in a unique column (the id). `Listing.fetch` runs one SELECT of the caller's columns in
that order over a `Window` and answers a `Page` of rows with the exact total (page and offset
modes) and `next_cursor` (every mode).

`fetch` hands the window to the strategy of its mode, each a few lines: `_cursor_page` (the
rows after the cursor's keys, no total), `_numbered_page` and `_offset_page` (the rows from a
position, with the exact total: both are `_counted_page`, which reads the caller's kept total
in the rows' statement, or else counts first). The rows come from one of three statements
(`_Reading`: the first rows; rows further on, found on their sort keys first; the rows after a
cursor's keys). Building a statement costs more than running a small one, so a caller that
names its list's `shape` has each statement built once and kept under a `_StatementKey`
(shape, sort, reading, whether the total rides in it): a request then only looks it up and
binds its values.

A cursor is opaque to clients: base64url of compact JSON `{"l": list, "s": sort, "k": [key
values of the last row seen], "f": scope}`; one made for another list or sort, or holding
anything else whatever its bytes, is a 422.

One Listing may serve several lists: the posts one orders every list of posts (all of them,
a tag's, the feed, your own). What selects a list's rows among them (the filter values, the
post of a comments list, the user of a followers list) is the caller's `scope`; the cursor
carries a short digest of it ("f", left out for a list without one), so that a cursor of
one of them is a 422 on another.

The sort enums live in each domain's sorting.py, below its schemas, service and repository,
which all name them.

A new list is three lines in its repository:

    FOLLOWERS = Listing("followers", {FollowSort.RECENT: (desc(Follow.created_at, TIME),
                                                        desc(Follow.follower_id, INT))})
    page = await FOLLOWERS.fetch(session, select(...).where(...), FollowSort.RECENT, window)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum, auto
from typing import Any, Generic, NamedTuple, Never, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, or_, select, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from blog_api.kit.errors import InvalidInputError
from blog_api.kit.rules import storable

# A SELECT of any columns (SQLAlchemy 2.1 types Select by its column types).
AnySelect = Select[*tuple[Any, ...]]
T = TypeVar("T", covariant=True)
U = TypeVar("U")
S = TypeVar("S", bound=StrEnum)
ItemT = TypeVar("ItemT")
ParentT = TypeVar("ParentT")

MAX_PER_PAGE = 100
# No table holds more rows than a 32-bit id can number: a window starting further is empty.
MAX_ROWS = 2**31
_CURSOR_LOC = ("query", "cursor")
_MAX_CURSOR_TEXT = 1000  # a key value: a casefolded 200-character title fits


class Kind(Enum):
    """What a key holds, so a cursor's value is checked and rebuilt as that type."""

    INT = "int"
    TEXT = "text"
    TIME = "time"


INT, TEXT, TIME = Kind.INT, Kind.TEXT, Kind.TIME


@dataclass(frozen=True, slots=True)
class Key:
    column: ColumnElement[Any]
    kind: Kind
    descending: bool = False


def asc(column: Any, kind: Kind) -> Key:
    return Key(column, kind)


def desc(column: Any, kind: Kind) -> Key:
    return Key(column, kind, descending=True)


@dataclass(frozen=True, slots=True)
class Window:
    """Which rows of a list: a page number (default), a cursor a previous page handed out,
    or an offset (for clients that count rows themselves). Each mode is read by a strategy of
    its own (`Listing.fetch`): a cursor when there is one, else an offset, else the page."""

    per_page: int = 20
    page: int | None = None
    cursor: str | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list. `total` and `page` are None in cursor mode (`page` in offset mode
    too); `next_cursor` is None on the last page."""

    items: Sequence[T]
    total: int | None
    page: int | None
    per_page: int
    next_cursor: str | None

    @property
    def pages(self) -> int | None:
        return None if self.total is None else -(-self.total // self.per_page)

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([convert(item) for item in self.items], *self._rest())

    def _rest(self) -> tuple[int | None, int | None, int, str | None]:
        return self.total, self.page, self.per_page, self.next_cursor


def empty_page(
    window: Window, listing: Listing[Any] | None = None, sort: Any = None, scope: object = None
) -> Page[Never]:
    """The page of a list that cannot hold anything (a filter nothing matches); a bad cursor,
    or one of another list, is still a 422."""
    if window.cursor is not None:
        if listing is not None:
            listing.decode(sort, window.cursor, scope)
        return Page([], None, None, window.per_page, None)
    return Page(
        [], 0, None if window.offset is not None else window.page or 1, window.per_page, None
    )


class Listing(Generic[S]):
    def __init__(self, name: str, orders: Mapping[S, tuple[Key, ...]]) -> None:
        self.name = name
        self.orders = dict(orders)
        self._statements: dict[_StatementKey, AnySelect] = {}
        self._counts: dict[Hashable, AnySelect] = {}  # per shape: the count of its rows

    def order_by(self, sort: S) -> list[ColumnElement[Any]]:
        return [k.column.desc() if k.descending else k.column.asc() for k in self.orders[sort]]

    def after(self, sort: S, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after `values` in `sort` order. Keys all in one direction compare as
        one row value, which both databases answer with a range scan of the matching index."""
        keys = self.orders[sort]
        bounds = [
            bindparam(None, v, type_=k.column.type) for k, v in zip(keys, values, strict=True)
        ]
        return self._beyond(keys, bounds)

    @staticmethod
    def _beyond(keys: Sequence[Key], bounds: Sequence[Any]) -> ColumnElement[bool]:
        if len({k.descending for k in keys}) == 1:
            row, bound = tuple_(*(k.column for k in keys)), tuple_(*bounds)
            return row < bound if keys[0].descending else row > bound
        alternatives = []
        for i, key in enumerate(keys):
            beyond = key.column < bounds[i] if key.descending else key.column > bounds[i]
            alternatives.append(
                and_(*(k.column == b for k, b in zip(keys[:i], bounds, strict=False)), beyond)
            )
        return or_(*alternatives)

    # --- cursors

    def encode(self, sort: S, values: Sequence[Any], scope: object = None) -> str:
        data = {"l": self.name, "s": sort.value, "k": [_dump(v) for v in values]}
        if scope is not None:
            data["f"] = _digest(scope)
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode("utf-8")).rstrip(b"=").decode("ascii")

    def decode(self, sort: S, cursor: str, scope: object = None) -> tuple[Any, ...]:
        """The key values a cursor holds; 422 when it is malformed or made for another list
        (another listing, or the same one with another `scope`) or sort."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            data = json.loads(raw.decode("utf-8"))
            made_for, made_sort, values = data["l"], data["s"], data["k"]
            made_of = data.get("f")
        except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
            raise _malformed() from None
        if made_for != self.name or made_of != (None if scope is None else _digest(scope)):
            raise InvalidInputError(
                "The cursor was made for another list (or other filters)", loc=_CURSOR_LOC
            )
        if made_sort != sort.value:
            raise InvalidInputError(
                f"The cursor was made for another sort, not sort={sort.value}",
                loc=_CURSOR_LOC,
            )
        keys = self.orders[sort]
        if not isinstance(values, list) or len(values) != len(keys):
            raise _malformed()
        return tuple(_load(key.kind, value) for key, value in zip(keys, values, strict=True))

    # --- the query

    async def fetch_under(
        self,
        session: AsyncSession,
        stmt: AnySelect | Callable[[], AnySelect],
        sort: S,
        window: Window,
        *,
        parent: tuple[str, int],
        total: ColumnElement[int] | None,
        read: Callable[[Row[Any]], ItemT],
        about_parent: Callable[[Row[Any]], ParentT],
    ) -> tuple[Page[ItemT], ParentT | None]:
        """A page of the rows under one parent (a post's comments, its revisions): `stmt`
        takes the parent's id as the bind parameter named `parent[0]`, and cursors are scoped
        to it. Also what the first row says of the parent (`about_parent`; None when the page
        is empty), which the rows carry so that the caller need not read the parent first."""
        name, parent_id = parent
        page = await self.fetch(
            session,
            stmt,
            sort,
            window,
            total=total,
            params={name: parent_id},
            shape=name,
            scope=parent_id,
        )
        first = page.items[0] if page.items else None
        return page.map(read), None if first is None else about_parent(first)

    async def fetch(
        self,
        session: AsyncSession,
        stmt: AnySelect | Callable[[], AnySelect],
        sort: S,
        window: Window,
        *,
        total: ColumnElement[int] | None = None,
        params: Mapping[str, Any] | None = None,
        shape: Hashable = None,
        count: Callable[[], AnySelect] | None = None,
        scope: object = None,
    ) -> Page[Row[Any]]:
        """The rows of `stmt` (its columns, filters and joins; no ORDER BY or LIMIT) in the
        window, in `sort` order. Each row also carries its key values (`_k0`, `_k1`, ...).

        The total, in page and offset modes: counted over `stmt` unless `total` is given, an
        SQL expression (a counter) that then rides in the page's statement.

        Building a statement and its cache key costs more than running a small one, so with a
        `shape` (a hashable that names everything `stmt` is made of but the values, which
        `stmt` takes as bind parameters from `params`) the statements are built once per shape,
        sort and reading (`_StatementKey`); `stmt` may then be a function that builds it.
        `count` builds a lighter statement with the same rows to count (the filters without
        the shown columns).

        `scope`: what selects this list's rows among those of the listing (JSON values: the
        filters, an id), when there is anything; cursors of another scope are a 422.
        """
        # Plain columns need none of the ORM's per-row work: run them on the session's
        # connection, as Core statements (same transaction).
        call = _Call(
            await session.connection(),
            stmt if callable(stmt) else lambda: stmt,
            sort,
            window.per_page,
            dict(params or {}),
            shape,
            total,
            count,
            scope,
        )
        if window.cursor is not None:
            return await self._cursor_page(call, window.cursor)
        if window.offset is not None:
            return await self._offset_page(call, window.offset)
        return await self._numbered_page(call, window.page or 1)

    # --- one strategy per window mode

    async def _cursor_page(self, call: _Call[S], cursor: str) -> Page[Any]:
        """Cursor mode: the rows after the cursor's keys, without a total; one row more than a
        page tells whether there are more."""
        after = self.decode(call.sort, cursor, call.scope)
        call.values.update({f"_after{i}": v for i, v in enumerate(after)})
        call.values["_limit"] = call.per_page + 1
        rows = await self._rows(call, _Reading.AFTER_KEYS, None)
        items = rows[: call.per_page]
        more = len(rows) > call.per_page
        return Page(items, None, None, call.per_page, self._next(call, items, more))

    async def _numbered_page(self, call: _Call[S], page: int) -> Page[Any]:
        """Page mode: page number `page` (from 1), with the exact total."""
        return await self._counted_page(call, (page - 1) * call.per_page, page)

    async def _offset_page(self, call: _Call[S], offset: int) -> Page[Any]:
        """Offset mode: the rows from the `offset`-th on, with the exact total; no page number."""
        return await self._counted_page(call, offset, None)

    async def _counted_page(self, call: _Call[S], start: int, page: int | None) -> Page[Any]:
        """The rows from position `start` on, with the exact total: the caller's kept one, read
        in the rows' statement, or else counted first (and no rows read past it)."""
        call.values.update({"_limit": call.per_page, "_offset": start})
        reading = _Reading.PAST_START if start else _Reading.FROM_START
        items: Sequence[Any] = []
        kept = call.kept_total
        if kept is None:
            total = await self._count(call)
            if start < min(total, MAX_ROWS):
                items = await self._rows(call, reading, None)
        else:
            if start < MAX_ROWS:
                items = await self._rows(call, reading, kept)
            total = await _kept_total(call, kept, items)
        more = start + len(items) < total
        return Page(items, total, page, call.per_page, self._next(call, items, more))

    # --- the statements, built once per shape

    async def _rows(
        self, call: _Call[S], reading: _Reading, total: ColumnElement[int] | None
    ) -> Sequence[Any]:
        statement = self._statement(call, reading, total)
        return (await call.conn.execute(statement, call.values)).all()

    def _statement(
        self, call: _Call[S], reading: _Reading, total: ColumnElement[int] | None
    ) -> AnySelect:
        """The statement that reads `call`'s rows `reading`, with `total` as a column `_total`
        when it is given: from the cache when the caller names a shape."""
        if call.shape is None:
            return self._build(call, reading, total)
        key = _StatementKey(call.shape, call.sort, reading, total is not None)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = self._build(call, reading, total)
        return statement

    def _build(
        self, call: _Call[S], reading: _Reading, total: ColumnElement[int] | None
    ) -> AnySelect:
        keys = self.orders[call.sort]
        base = call.build()
        query = base.add_columns(*(k.column.label(f"_k{i}") for i, k in enumerate(keys)))
        if total is not None:
            query = query.add_columns(total.label("_total"))
        limit = bindparam("_limit", type_=Integer)
        offset = bindparam("_offset", type_=Integer)
        match reading:
            case _Reading.FROM_START:
                query = query.offset(offset)
            case _Reading.PAST_START:
                # Past the first page, OFFSET has the database build every row it skips, the
                # shown columns' subqueries included: seconds at page 2,000. So the page's
                # rows are found on the sort keys alone (an index scan), then read whole. The
                # last key is unique within a list (it breaks ties), so it names a row.
                last = keys[-1].column
                rows = base.with_only_columns(last).order_by(*self.order_by(call.sort))
                query = query.where(last.in_(rows.limit(limit).offset(offset)))
            case _Reading.AFTER_KEYS:
                bounds = [bindparam(f"_after{i}", type_=k.column.type) for i, k in enumerate(keys)]
                query = query.where(self._beyond(keys, bounds))
        return query.order_by(*self.order_by(call.sort)).limit(limit)

    async def _count(self, call: _Call[S]) -> int:
        """How many rows `call` has, counted over its `count` statement (else its own)."""
        counted = None if call.shape is None else self._counts.get(call.shape)
        if counted is None:
            base = (call.count or call.build)()
            counted = select(func.count()).select_from(base.order_by(None).subquery())
            if call.shape is not None:
                self._counts[call.shape] = counted
        return int(await call.conn.scalar(counted, call.values) or 0)

    def _next(self, call: _Call[S], items: Sequence[Any], more: bool) -> str | None:
        if not (more and items):
            return None
        last = items[-1]
        keys = [getattr(last, f"_k{i}") for i in range(len(self.orders[call.sort]))]
        return self.encode(call.sort, keys, call.scope)


class _Reading(Enum):
    """Which rows of a list a statement reads: each is a statement of its own."""

    FROM_START = auto()  # page and offset modes, the first rows: OFFSET :_offset (0) LIMIT
    PAST_START = auto()  # page and offset modes, further on: the rows found on their keys first
    AFTER_KEYS = auto()  # cursor mode: the rows after the cursor's key values


class _StatementKey(NamedTuple):
    """What a cached statement is made of besides the values: the caller's `shape`, the sort,
    the reading, and whether the kept total rides in it as a column. Made and hashed on every
    request: a named tuple costs little more than a plain one (a frozen dataclass, twice it)."""

    shape: Hashable
    sort: StrEnum
    reading: _Reading
    with_total: bool


@dataclass(slots=True)
class _Call(Generic[S]):
    """What one `Listing.fetch` reads, as its window's strategy needs it: `build` makes the
    caller's statement, `values` are its bind parameters (the strategies add theirs)."""

    conn: AsyncConnection
    build: Callable[[], AnySelect]
    sort: S
    per_page: int
    values: dict[str, Any]
    shape: Hashable
    kept_total: ColumnElement[int] | None
    count: Callable[[], AnySelect] | None
    scope: object


async def _kept_total(call: _Call[Any], kept: ColumnElement[int], items: Sequence[Any]) -> int:
    """The kept total: the `_total` column of the page's first row, or read on its own when the
    page is empty."""
    if items:
        return int(items[0]._total or 0)
    return int(await call.conn.scalar(select(kept), call.values) or 0)


def _digest(scope: object) -> str:
    """A short name for a scope (JSON values): 48 bits of its BLAKE2b hash. A check that a
    cursor comes back to the list it was made for, not a secret: cursors are not signed."""
    text = json.dumps(scope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _malformed() -> InvalidInputError:
    return InvalidInputError("The cursor is malformed", loc=_CURSOR_LOC)


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        # The text the API prints for a timestamp: UTC, 'Z', microseconds only if any.
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _load(kind: Kind, value: Any) -> Any:
    if kind is Kind.INT:
        # Keys are 32-bit on PostgreSQL (ids, and counts of rows that have such ids), which
        # refuses a parameter past that: no row holds such a value, so no cursor does either.
        if isinstance(value, int) and not isinstance(value, bool) and -MAX_ROWS <= value < MAX_ROWS:
            return value
        raise _malformed()
    if not isinstance(value, str) or len(value) > _MAX_CURSOR_TEXT:
        raise _malformed()
    try:
        storable(value)
    except ValueError:
        raise _malformed() from None
    if kind is Kind.TEXT:
        return value
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        # OverflowError: a time that leaves the calendar once moved to UTC (year 1 at +01:00).
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _malformed() from None
