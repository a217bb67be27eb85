from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from blog_api.auth.deps import CurrentUser, OptionalUser
from blog_api.kit.deps import NO_STORE
from blog_api.kit.openapi import problem_responses
from blog_api.kit.pagination import ListWindowDep
from blog_api.kit.routing import PathRouter
from blog_api.kit.schemas import Page
from blog_api.posts.deps import PostIdPath, PostServiceDep
from blog_api.posts.schemas import Post, PostCreate, PostSummary, PostUpdate
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
    description="A contributor may write drafts only: `published: true` is a 403 for them.",
    responses=problem_responses(401, 403, 422),
)
async def create_post(
    data: PostCreate, me: CurrentUser, posts: PostServiceDep, request: Request, response: Response
) -> Post:
    post = await posts.create(me, data)
    response.headers["Location"] = request.app.url_path_for("get_post", post_id=str(post.id))
    return Post.model_validate(post)


@router.get(
    "/posts/by-slug/{slug}",
    response_model=Post,
    summary="A post by its slug (drafts: their author, editors and admins only)",
    responses=problem_responses(401, 403, 404),
)
async def get_post_by_slug(slug: str, viewer: OptionalUser, posts: PostServiceDep) -> Post:
    return Post.model_validate(await posts.get_by_slug(viewer, slug))


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
    "a contributor sending `published: true`.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_post(
    post_id: PostIdPath, data: PostUpdate, me: CurrentUser, posts: PostServiceDep
) -> Post:
    return Post.model_validate(await posts.update(me, post_id, data))


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
