"""Post shapes. Tags are normalised here, on the way in: trimmed, lowercased, deduplicated."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from blog_api.repositories.posts import PostSort
from blog_api.schemas.common import Text
from blog_api.schemas.users import UserPublic

__all__ = ["Post", "PostCreate", "PostSort", "PostSummary", "PostUpdate", "normalize_tag"]

MAX_TAGS = 10
_TAG = re.compile(r"[a-z0-9_-]{1,32}")


def is_tag_name(name: str) -> bool:
    return _TAG.fullmatch(name) is not None


def normalize_tag(raw: str) -> str:
    """' Python ' -> 'python'. Raises ValueError when the result is not a valid tag name."""
    name = raw.strip().lower()
    if not is_tag_name(name):
        raise ValueError(f"Invalid tag {raw!r}: use 1-32 letters, digits, '-' or '_' (ASCII)")
    return name


def _normalize_tags(raw: list[str]) -> list[str]:
    names = sorted({normalize_tag(item) for item in raw})
    if len(names) > MAX_TAGS:
        raise ValueError(f"A post has at most {MAX_TAGS} tags")
    return names


TagList = Annotated[
    list[Annotated[str, Field(max_length=64)]],
    Field(
        max_length=100,
        description=f"Tag names: trimmed, lowercased, duplicates collapsed; at most {MAX_TAGS}",
        examples=[["python", "async"]],
    ),
    AfterValidator(_normalize_tags),
]
Title = Annotated[Text, Field(min_length=1, max_length=200)]
Content = Annotated[Text, Field(min_length=1, max_length=100_000)]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


StrippedTitle = Annotated[Title, BeforeValidator(_strip)]


class PostCreate(BaseModel):
    title: StrippedTitle
    content: Content
    published: bool = False
    tags: TagList = []


class PostUpdate(BaseModel):
    """Only the fields sent are changed; `tags`, when sent, replaces the whole set."""

    title: StrippedTitle | None = None
    content: Content | None = None
    published: bool | None = None
    tags: TagList | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if name in cls.model_fields and value is None:
                    raise ValueError(f"{name} cannot be null")
        return data


def _tag_names(value: Any) -> Any:
    """ORM Tag objects -> their names, sorted."""
    if isinstance(value, list | tuple):
        return sorted(getattr(item, "name", item) for item in value)
    return value


class _PostBase(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    slug: str
    published: bool
    author: UserPublic
    tags: Annotated[list[str], BeforeValidator(_tag_names)] = Field(description="Tag names, sorted")
    created_at: datetime
    updated_at: datetime


class Post(_PostBase):
    content: str


class PostSummary(_PostBase):
    """A list item: a post without its content, with the content's first 200 characters."""

    excerpt: str
