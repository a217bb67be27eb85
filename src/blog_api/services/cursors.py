"""Opaque cursors for keyset pagination.

A cursor is base64url (no padding) of the compact JSON `{"s": sort, "k": [value, id]}`: the
sort it was made for and the sort key of the last row a client has seen. It is opaque to
clients; this module is the only place that knows what is inside.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from blog_api.errors import InvalidInputError
from blog_api.models import MAX_ID
from blog_api.repositories import PostSort
from blog_api.schemas.common import storable

SortValue = datetime | str
_LOC = ("query", "cursor")
_BY_TIME = frozenset({PostSort.NEWEST, PostSort.OLDEST})


def _iso(value: datetime) -> str:
    """The same text the API prints for a timestamp: UTC, 'Z', microseconds only if any."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode_cursor(sort: PostSort, value: SortValue, row_id: int) -> str:
    key = _iso(value) if isinstance(value, datetime) else value
    raw = json.dumps(
        {"s": sort.value, "k": [key, row_id]}, separators=(",", ":"), ensure_ascii=False
    )
    return base64.urlsafe_b64encode(raw.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, sort: PostSort) -> tuple[SortValue, int]:
    """The (sort value, id) a cursor holds; 422 when it is malformed or made for another sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        made_for, (value, row_id) = data["s"], data["k"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInputError("The cursor is malformed", loc=_LOC) from None
    if made_for != sort.value:
        raise InvalidInputError(
            f"The cursor was made for sort={made_for!s:.20}, not sort={sort.value}", loc=_LOC
        )
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id <= MAX_ID:
        raise InvalidInputError("The cursor is malformed", loc=_LOC)
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidInputError("The cursor is malformed", loc=_LOC)
    try:
        storable(value)
    except ValueError:
        raise InvalidInputError("The cursor is malformed", loc=_LOC) from None
    if sort not in _BY_TIME:
        return value, row_id
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        # OverflowError: a time that leaves the calendar once moved to UTC (year 1 at +01:00).
        return moment.astimezone(UTC), row_id
    except (ValueError, OverflowError):
        raise InvalidInputError("The cursor is malformed", loc=_LOC) from None
