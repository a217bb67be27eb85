"""The comments' dependencies: their service, and a comment id in a path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from pydantic import BeforeValidator

from blog_api.comments.repository import CommentRepository
from blog_api.comments.service import CommentService
from blog_api.kit.deps import SessionDep
from blog_api.kit.rules import check_decimal_id
from blog_api.models import MAX_ID
from blog_api.posts.deps import post_service


async def get_comment_service(session: SessionDep) -> CommentService:
    return CommentService(CommentRepository(session), post_service(session))


CommentServiceDep = Annotated[CommentService, Depends(get_comment_service)]


CommentIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A comment id"), BeforeValidator(check_decimal_id)
]
