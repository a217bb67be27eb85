"""Post shapes. Tags are normalised here, on the way in: trimmed, lowercased, deduplicated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from blog_api.kit.rules import (
    EXCERPT_LENGTH,
    MAX_TAGS,
    TAG_INPUT_PATTERN,
    TITLE_PATTERN,
    check_title,
    normalize_tag,
)
from blog_api.kit.schemas import Text, not_nullable
from blog_api.models import PostStatus
from blog_api.posts.sorting import PostSort
from blog_api.users.schemas import UserPublic

__all__ = ["Post", "PostCreate", "PostSort", "PostStatus", "PostSummary", "PostUpdate"]


def _normalize_tags(raw: list[str]) -> list[str]:
    return sorted({normalize_tag(item) for item in raw})


# At most MAX_TAGS names as sent (duplicates included): a limit the schema can state, so that a
# client's own validation and the server's agree.
TagList = Annotated[
    list[Annotated[str, Field(max_length=64, json_schema_extra={"pattern": TAG_INPUT_PATTERN})]],
    Field(
        max_length=MAX_TAGS,
        description=f"At most {MAX_TAGS} tag names; trimmed, lowercased, duplicates collapsed",
        examples=[["python", "async"]],
    ),
    AfterValidator(_normalize_tags),
]
Title = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=200,
        description="1-200 characters, something visible among them; no control characters "
        "and no bidirectional overrides",
        # In the schema only: the rule is check_title (the pattern covers the BMP).
        json_schema_extra={"pattern": TITLE_PATTERN},
    ),
    AfterValidator(check_title),
]
Content = Annotated[Text, Field(min_length=1, max_length=100_000)]
Description = Annotated[Text, Field(max_length=300, description="The author's short summary")]


# The instants a post may be published at: what every database stores and the API prints.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _in_utc(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except OverflowError:  # leaves the calendar once moved to UTC (year 1 at +01:00)
        moment = None
    if moment is None or not _EARLIEST <= moment < _LATEST:
        raise ValueError("published_at must lie between the years 1970 and 9998")
    return moment


def _iso_text(value: Any) -> Any:
    """Only the text the schema describes: not a number of seconds, which pydantic would read."""
    if not isinstance(value, str | datetime):
        raise ValueError("published_at must be an ISO 8601 date and time with a UTC offset")
    return value


PublishedAt = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    Field(
        description="ISO 8601 with a UTC offset (a time without one is refused, never read "
        "as local time). With status scheduled: when the post goes live, in the future. "
        "With status published: a past instant backdates the post (imports).",
        examples=["2026-12-24T08:00:00Z"],
    ),
    AfterValidator(_in_utc),
]
StatusField = Annotated[
    PostStatus,
    Field(
        description="draft, scheduled (goes live at published_at) or published; `published` "
        "is its shorthand (true: published, false: draft), and both sent must agree"
    ),
]


def requested_status(
    published: bool | None, status: PostStatus | None, sent: set[str]
) -> PostStatus | None:
    """The status a request asks for (None: unchanged): `status`, or `published` as its
    shorthand; both sent and disagreeing is an error."""
    shorthand = None
    if "published" in sent and published is not None:
        shorthand = PostStatus.PUBLISHED if published else PostStatus.DRAFT
    if "status" in sent and status is not None:
        if shorthand is not None and shorthand is not status:
            raise ValueError(
                f"published={str(published).lower()} and status={status.value} disagree: "
                "send one of them"
            )
        return status
    return shorthand


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


StrippedTitle = Annotated[Title, BeforeValidator(_strip)]


class PostCreate(BaseModel):
    title: StrippedTitle
    content: Content
    description: Description | None = None
    published: StrictBool = False
    status: StatusField | None = None
    published_at: PublishedAt | None = None
    tags: TagList = []

    @model_validator(mode="after")
    def _one_status(self) -> PostCreate:
        requested_status(self.published, self.status, self.model_fields_set)
        return self

    def requested_status(self) -> PostStatus:
        """draft unless published or status say otherwise."""
        asked = requested_status(self.published, self.status, self.model_fields_set)
        return asked or PostStatus.DRAFT


class PostUpdate(BaseModel):
    """Only the fields sent are changed; `tags`, when sent, replaces the whole set."""

    # Omitted means unchanged, but null is refused (only `description` may be null): the
    # schema says so.
    model_config = ConfigDict(
        json_schema_extra=not_nullable(
            "title", "content", "published", "status", "published_at", "tags"
        )
    )

    title: StrippedTitle | None = None
    content: Content | None = None
    description: Description | None = Field(None, description="null removes it")
    published: StrictBool | None = None
    status: StatusField | None = None
    published_at: PublishedAt | None = None
    tags: TagList | None = None

    @model_validator(mode="after")
    def _one_status(self) -> PostUpdate:
        requested_status(self.published, self.status, self.model_fields_set)
        return self

    def requested_status(self) -> PostStatus | None:
        """The status asked for; None: unchanged."""
        return requested_status(self.published, self.status, self.model_fields_set)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if name in cls.model_fields and name != "description" and value is None:
                    raise ValueError(f"{name} cannot be null")
        return data


class _PostBase(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    slug: str
    description: str | None
    published: bool = Field(description="Whether status is published")
    status: PostStatus
    published_at: datetime | None = Field(
        description="When the post was first published (backdated by imports), or, while "
        "scheduled, when it goes live; null for a draft never published"
    )
    author: UserPublic
    tags: list[str] = Field(description="Tag names, sorted")
    favorites_count: int = Field(description="How many users favorited the post")
    comments_count: int
    favorited: bool = Field(description="Whether the caller favorited it (false when anonymous)")
    created_at: datetime
    updated_at: datetime


class Post(_PostBase):
    content: str


class PostSummary(_PostBase):
    """A list item: a post without its content, with the start of the content."""

    excerpt: str = Field(
        description=f"The start of the content, at most {EXCERPT_LENGTH} characters, cut at a "
        "word boundary with an ellipsis when cut"
    )
