"""The query parameters every list endpoint takes: `page` or `cursor`, and `per_page`.

Numbers are decimal digits only, as ids in a path are: "1.0", "+1", " 1" and "1_000" are 422s."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BeforeValidator

from blog_api.kit.errors import InvalidInputError
from blog_api.kit.listing import MAX_PER_PAGE, Window
from blog_api.kit.rules import check_decimal_id


async def list_window(
    page: Annotated[
        int | None,
        Query(ge=1, description="Page number, from 1 (default 1); not with cursor"),
        BeforeValidator(check_decimal_id),
    ] = None,
    per_page: Annotated[
        int,
        Query(ge=1, le=MAX_PER_PAGE, description="Rows per page"),
        BeforeValidator(check_decimal_id),
    ] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=4096,  # a title cursor holds up to 600 casefolded characters
            description="A previous answer's next_cursor, in place of page (same filters and sort)",
        ),
    ] = None,
) -> Window:
    if page is not None and cursor is not None:
        raise InvalidInputError("Send page or cursor, not both", loc=("query", "cursor"))
    return Window(per_page=per_page, page=page, cursor=cursor)


ListWindowDep = Annotated[Window, Depends(list_window)]
