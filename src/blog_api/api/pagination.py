"""The `page` / `per_page` query parameters every list endpoint takes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

from blog_api.errors import InvalidInputError
from blog_api.services import ListWindow, PostPage

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    per_page: int

    def body(self, rows: Iterable[Any], total: int) -> dict[str, Any]:
        """The page object for `rows`, as the route's `response_model` (a `Page[...]`) reads it.

        Routes hand FastAPI the ORM rows themselves: it validates them against the response
        model once and writes the JSON in pydantic's core, with no model built in between.
        """
        return {
            "items": rows,
            "total": total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": _pages(total, self.per_page),
        }


async def page_params(
    page: Annotated[int, Query(ge=1, description="Page number, from 1")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page")] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


async def list_window(
    page: Annotated[
        int | None, Query(ge=1, description="Page number, from 1 (default 1); not with cursor")
    ] = None,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page")] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=4096,  # a title cursor holds up to 200 four-byte characters
            description="A previous answer's next_cursor, in place of page (same filters and sort)",
        ),
    ] = None,
) -> ListWindow:
    if page is not None and cursor is not None:
        raise InvalidInputError("Send page or cursor, not both", loc=("query", "cursor"))
    return ListWindow(per_page=per_page, page=page, cursor=cursor)


ListWindowDep = Annotated[ListWindow, Depends(list_window)]


def cursor_page_body(result: PostPage, per_page: int) -> dict[str, Any]:
    """As `PageParams.body`, for a `CursorPage[...]` response model."""
    total = result.total
    return {
        "items": result.items,
        "total": total,
        "page": result.page,
        "per_page": per_page,
        "pages": None if total is None else _pages(total, per_page),
        "next_cursor": result.next_cursor,
    }


def _pages(total: int, per_page: int) -> int:
    return -(-total // per_page)
