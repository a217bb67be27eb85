from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import BeforeValidator

from blog_api.auth.deps import CurrentUser, OptionalUser
from blog_api.kit.deps import NO_STORE
from blog_api.kit.openapi import problem_responses
from blog_api.kit.pagination import ListWindowDep
from blog_api.kit.routing import PathRouter
from blog_api.kit.rules import check_decimal_id
from blog_api.kit.schemas import Page
from blog_api.models import MAX_ID
from blog_api.posts.deps import PostIdPath, PostServiceDep
from blog_api.posts.schemas import Post, PostCreate, PostSummary, PostUpdate, Revision
from blog_api.posts.sorting import PostSort

router = PathRouter(tags=["posts"])

SortQuery = Annotated[
    PostSort, Query(description="Order of the list; ties are broken by id, the same way")
]


@router.get(
    "/posts",
    response_model=Page[PostSummary],
    summary="Published posts, filtered and sorted, by page or by cursor",
    responses=problem_responses(401, 403, 422),
)
async def list_posts(
    posts: PostServiceDep,
    window: ListWindowDep,
    viewer: OptionalUser,
    author: Annotated[str | None, Query(max_length=64, description="A username")] = None,
    tag: Annotated[str | None, Query(max_length=64, description="A tag name")] = None,
    favorited_by: Annotated[
        str | None, Query(max_length=64, description="Posts this username favorited")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Case-insensitive text in the title or content"),
    ] = None,
    featured: Annotated[
        bool | None,
        Query(description="true: featured posts only; false: posts not featured; omitted: all"),
    ] = None,
    sort: SortQuery = PostSort.PUBLISHED_DESC,
) -> Page[PostSummary]:
    result = await posts.list_published(
        viewer,
        window,
        author=author,
        tag=tag,
        favorited_by=favorited_by,
        q=q,
        featured=featured,
        sort=sort,
    )
    return Page[PostSummary].of(result)


@router.post(
    "/posts",
    status_code=status.HTTP_201_CREATED,
    response_model=Post,
    summary="Write a post (a draft unless published is true)",
    description="A contributor may write drafts only: `published: true` is a 403 for them. "
    "A `slug` that another post has or had is a 409.",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_post(
    data: PostCreate, me: CurrentUser, posts: PostServiceDep, request: Request, response: Response
) -> Post:
    post = await posts.create(me, data)
    response.headers["Location"] = request.app.url_path_for("get_post", post_id=str(post.id))
    return Post.model_validate(post)


RevisionIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="A revision id"), BeforeValidator(check_decimal_id)
]

_MOVED: dict[int | str, dict[str, Any]] = {
    status.HTTP_301_MOVED_PERMANENTLY: {
        "description": "The slug is one the post had before: `Location` is the post at its "
        "current slug",
        "headers": {
            "Location": {
                "description": "The URL of the post at its current slug",
                "schema": {"type": "string"},
            }
        },
    }
}


@router.get(
    "/posts/by-slug/{slug}",
    response_model=Post,
    summary="A post by its slug (drafts: their author, editors and admins only)",
    description="Every slug a post has had keeps leading to it: an earlier one answers 301 "
    "with `Location` at the current one.",
    responses={**_MOVED, **problem_responses(401, 403, 404)},
)
async def get_post_by_slug(
    slug: str, viewer: OptionalUser, posts: PostServiceDep, request: Request
) -> Post | Response:
    post = await posts.get_by_slug(viewer, slug)
    if post.slug != slug:
        location = request.app.url_path_for("get_post_by_slug", slug=post.slug)
        return RedirectResponse(location, status_code=status.HTTP_301_MOVED_PERMANENTLY)
    return Post.model_validate(post)


@router.get(
    "/posts/{post_id}",
    response_model=Post,
    summary="A post (drafts: their author, editors and admins only)",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_post(post_id: PostIdPath, viewer: OptionalUser, posts: PostServiceDep) -> Post:
    return Post.model_validate(await posts.get(viewer, post_id))


@router.patch(
    "/posts/{post_id}",
    response_model=Post,
    summary="Change a post (its author, an editor or an admin); tags, when sent, replace the set",
    description="403 for anyone else, for a contributor once the post is published, and for "
    "a contributor sending `published: true`. 409 when `slug` is one another post has or "
    "had, or when `updated_at` is sent and the post has changed since.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_post(
    post_id: PostIdPath, data: PostUpdate, me: CurrentUser, posts: PostServiceDep
) -> Post:
    return Post.model_validate(await posts.update(me, post_id, data))


@router.get(
    "/posts/{post_id}/revisions",
    response_model=Page[Revision],
    dependencies=[NO_STORE],
    summary="The post's revisions, newest first (those who may edit the post)",
    description="Each change of the title, content, description or status keeps the version "
    "it replaced; the 25 newest are kept. 403 for those who may see the post but not edit "
    "it; 404 when the post is not visible to the caller.",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_revisions(
    post_id: PostIdPath, me: CurrentUser, posts: PostServiceDep, window: ListWindowDep
) -> Page[Revision]:
    return Page[Revision].of(await posts.revisions(me, post_id, window))


@router.post(
    "/posts/{post_id}/revisions/{revision_id}/restore",
    response_model=Post,
    summary="Bring back a revision's title, description and content (editors: anyone's "
    "posts; authors: their own)",
    description="Itself a change: the version it replaces becomes a revision. 404 for a "
    "revision of another post.",
    responses=problem_responses(401, 403, 404, 422),
)
async def restore_revision(
    post_id: PostIdPath, revision_id: RevisionIdPath, me: CurrentUser, posts: PostServiceDep
) -> Post:
    return Post.model_validate(await posts.restore(me, post_id, revision_id))


@router.delete(
    "/posts/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a post (its author, an editor or an admin)",
    description="A contributor may delete their own drafts, not a published post (403).",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_post(post_id: PostIdPath, me: CurrentUser, posts: PostServiceDep) -> None:
    await posts.delete(me, post_id)


@router.get(
    "/users/me/posts",
    response_model=Page[PostSummary],
    dependencies=[NO_STORE],
    summary="Your posts, drafts included, newest first, by page or by cursor",
    responses=problem_responses(401, 403, 422),
)
async def list_my_posts(
    me: CurrentUser, posts: PostServiceDep, window: ListWindowDep
) -> Page[PostSummary]:
    return Page[PostSummary].of(await posts.list_own(me, window))
