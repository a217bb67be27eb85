"""Post shapes. Tags are normalised here, on the way in: trimmed, lowercased, deduplicated."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
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
from blog_api.posts.sorting import PostSort
from blog_api.users.schemas import UserPublic

__all__ = ["Post", "PostCreate", "PostSort", "PostSummary", "PostUpdate"]


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


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


StrippedTitle = Annotated[Title, BeforeValidator(_strip)]


class PostCreate(BaseModel):
    title: StrippedTitle
    content: Content
    description: Description | None = None
    published: StrictBool = False
    tags: TagList = []


class PostUpdate(BaseModel):
    """Only the fields sent are changed; `tags`, when sent, replaces the whole set."""

    # Omitted means unchanged, but null is refused (only `description` may be null): the
    # schema says so.
    model_config = ConfigDict(
        json_schema_extra=not_nullable("title", "content", "published", "tags")
    )

    title: StrippedTitle | None = None
    content: Content | None = None
    description: Description | None = Field(None, description="null removes it")
    published: StrictBool | None = None
    tags: TagList | None = None

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
    published: bool
    published_at: datetime | None = Field(
        description="When the post was first published; null for a draft never published"
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
