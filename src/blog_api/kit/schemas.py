"""Shapes shared by every endpoint: problem details and the page envelope."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from blog_api.kit import listing
from blog_api.kit.rules import NO_NUL_PATTERN, storable

T = TypeVar("T")


# Text any column can hold: no NUL (the schema's pattern says so; `storable` also refuses
# lone surrogates, which no JSON Schema pattern can name).
Text = Annotated[
    str, Field(json_schema_extra={"pattern": NO_NUL_PATTERN}), AfterValidator(storable)
]


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
    """One page of a list, the same envelope for every list.

    In page mode `total` is exact and `pages` is ceil(total / per_page) (0 when there is
    nothing). In cursor mode (`cursor=` instead of `page=`) `total`, `page` and `pages` are
    null, so a deep position costs what the first page costs. `next_cursor` is null on the
    last page.
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

    @classmethod
    def of(cls, page: listing.Page[object]) -> Self:
        """The envelope of a page of read models (its items validated once, here, from their
        attributes)."""
        return cls.model_validate(
            {
                "items": page.items,
                "total": page.total,
                "page": page.page,
                "per_page": page.per_page,
                "pages": page.pages,
                "next_cursor": page.next_cursor,
            }
        )


def not_nullable(*fields: str, **extra: Any) -> Any:
    """A `json_schema_extra` for a PATCH model whose fields may be omitted but not null: the
    schema loses their `null` option (and the null default), as the server refuses null.
    The fields stay `X | None` in Python, so that errors point at the field alone."""

    def edit(schema: dict[str, Any]) -> None:
        schema.update(extra)
        for name in fields:
            prop = schema.get("properties", {}).get(name)
            if not prop or "anyOf" not in prop:
                continue
            options = [o for o in prop.pop("anyOf") if o.get("type") != "null"]
            if prop.get("default", ...) is None:
                del prop["default"]
            if len(options) == 1:
                prop.update({**options[0], **prop})
            else:
                prop["anyOf"] = options

    return edit
