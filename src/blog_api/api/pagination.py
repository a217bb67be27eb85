"""The `page` / `per_page` query parameters every list endpoint takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    per_page: int


def page_params(
    page: Annotated[int, Query(ge=1, description="Page number, from 1")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows per page")] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageParamsDep = Annotated[PageParams, Depends(page_params)]
