"""RealWorld: an article's comments, listed whole, oldest first."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import Path, Response, status
from pydantic import BeforeValidator

from blog_api.comments.deps import CommentServiceDep
from blog_api.comments.schemas import CommentCreate
from blog_api.comments.views import CommentView
from blog_api.kit.routing import PathRouter
from blog_api.kit.rules import check_decimal_id
from blog_api.models import MAX_ID
from blog_api.posts.deps import PostServiceDep
from blog_api.realworld.articles import SlugPath, published_article
from blog_api.realworld.bodies import (
    CommentBody,
    MultipleCommentsResponseBody,
    SingleCommentResponseBody,
)
from blog_api.realworld.convert import native, profile_body, refuse_blank, timestamp
from blog_api.realworld.deps import CurrentCaller, OptionalCaller, viewer
from blog_api.realworld.errors import RealWorldRoute, about
from blog_api.realworld.openapi import responses
from blog_api.realworld.schemas import (
    MultipleCommentsResponse,
    NewCommentRequest,
    SingleCommentResponse,
)
from blog_api.users.deps import UserServiceDep

router = PathRouter(route_class=RealWorldRoute, tags=["Comments"])

# An integer, as the spec says, in decimal digits, as on /api/v1: "-1", "+1" and "1.0" are no
# ids, and the document says `minimum: 0` (0 names no comment: 404).
CommentIdPath = Annotated[
    int, Path(ge=0, le=MAX_ID, description="ID of the comment"), BeforeValidator(check_decimal_id)
]


def comment_body(comment: CommentView, followed: Collection[int]) -> CommentBody:
    """A native comment as RealWorld shows it; `followed` holds the ids of the authors the
    reader follows."""
    author = comment.author
    return {
        "id": comment.id,
        "createdAt": timestamp(comment.created_at),
        "updatedAt": timestamp(comment.updated_at),
        "body": comment.body,
        "author": profile_body(author, following=author.id in followed),
    }


@router.get(
    "/articles/{slug}/comments",
    operation_id="GetArticleComments",
    summary="Get comments for an article",
    description="Get the comments for an article. Auth is optional",
    response_model=MultipleCommentsResponse,
    responses=responses(401, 404, 422),
)
async def list_comments(
    slug: SlugPath,
    caller: OptionalCaller,
    posts: PostServiceDep,
    comments: CommentServiceDep,
    users: UserServiceDep,
) -> MultipleCommentsResponseBody:
    reader = viewer(caller)
    with about("article"):
        post = await published_article(posts, reader, slug)
        found = await comments.list_all(reader, post.id)
    followed = await users.followed_among(reader, {c.author.id for c in found})
    return {"comments": [comment_body(comment, followed) for comment in found]}


@router.post(
    "/articles/{slug}/comments",
    operation_id="CreateArticleComment",
    summary="Create a comment for an article",
    description="Create a comment for an article. Auth is required",
    status_code=status.HTTP_201_CREATED,
    response_model=SingleCommentResponse,
    responses=responses(401, 404, 422),
)
async def create_comment(
    slug: SlugPath,
    body: NewCommentRequest,
    caller: CurrentCaller,
    posts: PostServiceDep,
    comments: CommentServiceDep,
) -> SingleCommentResponseBody:
    refuse_blank({"body": body.comment.body})
    data = native(CommentCreate, {"body": body.comment.body})
    with about("article"):
        post = await published_article(posts, caller.user, slug)
        comment = await comments.create(caller.user, post.id, data)
    # One's own comment: one does not follow oneself.
    return {"comment": comment_body(comment, set())}


@router.delete(
    "/articles/{slug}/comments/{id}",
    operation_id="DeleteArticleComment",
    summary="Delete a comment for an article",
    description="Delete a comment for an article. Auth is required",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(401, 403, 404, 422),
)
async def delete_comment(
    slug: SlugPath,
    id: CommentIdPath,
    caller: CurrentCaller,
    posts: PostServiceDep,
    comments: CommentServiceDep,
) -> Response:
    """The comment's author, the article's author (or an editor) may delete it; a comment
    id is looked up within its article."""
    with about("article"):
        post = await published_article(posts, caller.user, slug)
    with about("comment"):
        await comments.delete(caller.user, post.id, id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
