from __future__ import annotations

from fastapi import Request, Response, status

from blog_api.auth.deps import CurrentUser, OptionalUser
from blog_api.comments.deps import CommentIdPath, CommentServiceDep
from blog_api.comments.schemas import Comment, CommentCreate, CommentUpdate
from blog_api.kit.openapi import problem_responses
from blog_api.kit.pagination import ListWindowDep
from blog_api.kit.routing import PathRouter
from blog_api.kit.schemas import Page
from blog_api.posts.deps import PostIdPath

router = PathRouter(prefix="/posts/{post_id}/comments", tags=["comments"])


@router.get(
    "",
    response_model=Page[Comment],
    summary="A post's comments, oldest first, by page or by cursor",
    responses=problem_responses(404, 422),
)
async def list_comments(
    post_id: PostIdPath, viewer: OptionalUser, comments: CommentServiceDep, window: ListWindowDep
) -> Page[Comment]:
    return Page[Comment].of(await comments.list_page(viewer, post_id, window))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Comment,
    summary="Comment on a post you can see",
    responses=problem_responses(401, 403, 404, 422),
)
async def create_comment(
    post_id: PostIdPath,
    data: CommentCreate,
    me: CurrentUser,
    comments: CommentServiceDep,
    request: Request,
    response: Response,
) -> Comment:
    comment = await comments.create(me, post_id, data)
    response.headers["Location"] = request.app.url_path_for(
        "get_comment", post_id=str(post_id), comment_id=str(comment.id)
    )
    return Comment.model_validate(comment)


@router.get(
    "/{comment_id}",
    response_model=Comment,
    summary="One comment of a post",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_comment(
    post_id: PostIdPath,
    comment_id: CommentIdPath,
    viewer: OptionalUser,
    comments: CommentServiceDep,
) -> Comment:
    return Comment.model_validate(await comments.get(viewer, post_id, comment_id))


@router.patch(
    "/{comment_id}",
    response_model=Comment,
    summary="Edit a comment (its author only)",
    responses=problem_responses(401, 403, 404, 422),
)
async def update_comment(
    post_id: PostIdPath,
    comment_id: CommentIdPath,
    data: CommentUpdate,
    me: CurrentUser,
    comments: CommentServiceDep,
) -> Comment:
    return Comment.model_validate(await comments.update(me, post_id, comment_id, data))


@router.delete(
    "/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a comment (its author, the post's author, an editor or an admin)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_comment(
    post_id: PostIdPath, comment_id: CommentIdPath, me: CurrentUser, comments: CommentServiceDep
) -> None:
    await comments.delete(me, post_id, comment_id)
