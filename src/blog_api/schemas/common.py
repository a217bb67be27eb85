"""Shapes shared by every endpoint: problem details and the page envelope."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

T = TypeVar("T")


def storable(value: str) -> str:
    """Refuse what no database column should hold: NUL characters (PostgreSQL cannot store
    them) and lone UTF-16 surrogates (JSON's "\\ud800" allows them; UTF-8 does not)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(storable)]


class Problem(BaseModel):
    """An RFC 9457 problem detail (`application/problem+json`)."""

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["Post 42 not found"])


class ValidationErrorItem(BaseModel):
    loc: list[str | int] = Field(examples=[["body", "email"]])
    msg: str
    type: str


class ValidationProblem(Problem):
    errors: list[ValidationErrorItem]


class Page(BaseModel, Generic[T]):
    """One page of a list. `pages` is ceil(total / per_page), 0 when there is nothing."""

    items: list[T]
    total: int = Field(description="Exact number of rows matching the filters")
    page: int = Field(description="This page's number, from 1")
    per_page: int
    pages: int = Field(description="ceil(total / per_page); 0 when total is 0")


class CursorPage(BaseModel, Generic[T]):
    """A page of a list that also walks by cursor.

    In page mode it is a `Page` plus `next_cursor`. In cursor mode (`cursor=` instead of
    `page=`) `total`, `page` and `pages` are null, so a deep position costs what the first
    page costs. `next_cursor` is null on the last page.
    """

    items: list[T]
    total: int | None = Field(description="Exact number of rows; null in cursor mode")
    page: int | None = Field(description="This page's number; null in cursor mode")
    per_page: int
    pages: int | None = Field(description="ceil(total / per_page); null in cursor mode")
    next_cursor: str | None = Field(
        description="Pass as `cursor` (same filters and sort) for the rows after this page; "
        "null on the last page"
    )
