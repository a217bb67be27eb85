"""The `page` / `per_page` query parameters every list endpoint takes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from blog_api.errors import InvalidInputError
from blog_api.schemas.common import CursorPage, Page
from blog_api.services import ListWindow, PostPage

ItemT = TypeVar("ItemT", bound=BaseModel)

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    per_page: int

    def build(self, schema: type[ItemT], rows: Iterable[Any], total: int) -> Page[ItemT]:
        """The page object for `rows` (ORM objects or rows), each shaped as `schema`."""
        return Page[schema].build(  # type: ignore[valid-type]
            [schema.model_validate(row) for row in rows],
            total=total,
            page=self.page,
            per_page=self.per_page,
        )


def page_params(
    page: Annotated[int, Query(ge=1, description="Page number, from 1")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page")] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


def list_window(
    page: Annotated[
        int | None, Query(ge=1, description="Page number, from 1 (default 1); not with cursor")
    ] = None,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page")] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=1024,
            description="A previous answer's next_cursor, in place of page (same filters and sort)",
        ),
    ] = None,
) -> ListWindow:
    if page is not None and cursor is not None:
        raise InvalidInputError("Send page or cursor, not both", loc=("query", "cursor"))
    return ListWindow(per_page=per_page, page=page, cursor=cursor)


ListWindowDep = Annotated[ListWindow, Depends(list_window)]


def cursor_page(schema: type[ItemT], result: PostPage, per_page: int) -> CursorPage[ItemT]:
    total = result.total
    return CursorPage[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in result.items],
        total=total,
        page=result.page,
        per_page=per_page,
        pages=None if total is None else -(-total // per_page),
        next_cursor=result.next_cursor,
    )
