"""Comment shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from blog_api.kit.rules import COMMENT_BODY_PATTERN, COMMENT_MAX_LENGTH, check_comment_body
from blog_api.users.schemas import UserPublic

CommentBody = Annotated[
    str,
    Field(
        min_length=1,
        max_length=COMMENT_MAX_LENGTH,
        description="1-5,000 characters, not only whitespace",
        json_schema_extra={"pattern": COMMENT_BODY_PATTERN},
    ),
    AfterValidator(check_comment_body),
]


class CommentCreate(BaseModel):
    body: CommentBody


class CommentUpdate(BaseModel):
    body: CommentBody


class Comment(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    post_id: int
    body: str
    author: UserPublic
    created_at: datetime
    updated_at: datetime
