"""RealWorld: articles (native posts), the global list with its filters, and the home feed.

Articles are read through the native read path: one statement per article or per page, with
the reader's `favorited` and the author's `following` in it.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Path, Query, Response, status

from blog_api.favorites.deps import FavoriteServiceDep
from blog_api.kit.errors import NotFoundError
from blog_api.kit.listing import Page, Window
from blog_api.kit.routing import PathRouter
from blog_api.models import MAX_ID, User
from blog_api.posts.deps import PostServiceDep
from blog_api.posts.schemas import PostCreate, PostUpdate
from blog_api.posts.service import PostService
from blog_api.posts.views import PostSummaryView, PostView
from blog_api.realworld.bodies import (
    ArticleListItemBody,
    MultipleArticlesResponseBody,
    SingleArticleResponseBody,
)
from blog_api.realworld.convert import native, profile_body, refuse_blank, timestamp
from blog_api.realworld.deps import CurrentCaller, LenientCaller, OptionalCaller, viewer
from blog_api.realworld.errors import RealWorldRoute, about
from blog_api.realworld.openapi import responses
from blog_api.realworld.schemas import (
    MultipleArticlesResponse,
    NewArticleRequest,
    SingleArticleResponse,
    UpdateArticleRequest,
)

router = PathRouter(route_class=RealWorldRoute, tags=["Articles"])
favorites_router = PathRouter(route_class=RealWorldRoute, tags=["Favorites"])

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# RealWorld's `description` is a string; a native post may have none.
NO_DESCRIPTION = ""
# Native names of RealWorld's article fields.
NATIVE_NAME = {"title": "title", "description": "description", "body": "content", "tagList": "tags"}

SlugPath = Annotated[str, Path(description="Slug of the article")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="The numbers of items to return.")]
Offset = Annotated[
    int,
    Query(
        ge=0,
        # Past any real list; an absurd offset is a 422, not a number no database takes.
        le=MAX_ID,
        description="The number of items to skip before starting to collect the result set.",
    ),
]
TagFilter = Annotated[str | None, Query(max_length=64, description="Filter by tag")]
AuthorFilter = Annotated[
    str | None, Query(max_length=64, description="Filter by author (username)")
]
FavoritedFilter = Annotated[
    str | None, Query(max_length=64, description="Filter by favorites of a user (username)")
]


def article_item(post: PostView | PostSummaryView) -> ArticleListItemBody:
    """A native post as a RealWorld article as lists show it: without its `body`."""
    return {
        "slug": post.slug,
        "title": post.title,
        "description": post.description if post.description is not None else NO_DESCRIPTION,
        "tagList": post.tags,
        "createdAt": timestamp(post.created_at),
        "updatedAt": timestamp(post.updated_at),
        "favorited": post.favorited,
        "favoritesCount": post.favorites_count,
        "author": profile_body(post.author, following=post.following_author),
    }


def one_article(post: PostView) -> SingleArticleResponseBody:
    return {"article": {**article_item(post), "body": post.content}}


def many_articles(page: Page[PostSummaryView]) -> Response:
    """A page of articles. Written straight to JSON: every value is already what the schema
    says (the tests validate these answers against the spec), and a list page would otherwise
    be validated again field by field."""
    assert page.total is not None  # an offset window counts its list
    body: MultipleArticlesResponseBody = {
        "articles": [article_item(post) for post in page.items],
        "articlesCount": page.total,
    }
    return Response(orjson.dumps(body), media_type="application/json")


async def published_article(posts: PostService, reader: User | None, slug: str) -> PostView:
    """The article `slug` as `reader` sees it. RealWorld has no drafts: a draft is not found on
    this face, even by its author (who sees it on /api/v1)."""
    post = await posts.get_by_slug(reader, slug)
    if not post.published:
        raise NotFoundError(f"Post {slug[:100]!r} not found")
    return post


def _window(offset: int, limit: int) -> Window:
    return Window(per_page=limit, offset=offset)


@router.get(
    "/articles/feed",
    operation_id="GetArticlesFeed",
    summary="Get recent articles from users you follow",
    description=(
        "Get most recent articles from users you follow. Use query parameters to limit. "
        "Auth is required"
    ),
    response_model=MultipleArticlesResponse,
    responses=responses(401, 422),
)
async def feed(
    caller: CurrentCaller,
    posts: PostServiceDep,
    offset: Offset = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    return many_articles(await posts.list_feed(caller.user, _window(offset, limit)))


@router.get(
    "/articles",
    operation_id="GetArticles",
    summary="Get recent articles globally",
    description=(
        "Get most recent articles globally. Use query parameters to filter results. "
        "Auth is optional"
    ),
    response_model=MultipleArticlesResponse,
    responses=responses(401, 422),
)
async def list_articles(
    caller: OptionalCaller,
    posts: PostServiceDep,
    tag: TagFilter = None,
    author: AuthorFilter = None,
    favorited: FavoritedFilter = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    # Front-ends send `?tag=&author=&favorited=` when no filter is chosen: empty is none.
    page = await posts.list_published(
        viewer(caller),
        _window(offset, limit),
        tag=tag or None,
        author=author or None,
        favorited_by=favorited or None,
    )
    return many_articles(page)


@router.post(
    "/articles",
    operation_id="CreateArticle",
    summary="Create an article",
    description="Create an article. Auth is required",
    status_code=status.HTTP_201_CREATED,
    response_model=SingleArticleResponse,
    responses=responses(
        401, 403, 409, 422, descriptions={403: "Your role may not publish (a contributor)"}
    ),
)
async def create_article(
    body: NewArticleRequest, caller: CurrentCaller, posts: PostServiceDep
) -> SingleArticleResponseBody:
    """RealWorld articles are published when created, so a caller whose role may not publish
    (a contributor) gets a 403; titles may repeat (slugs differ); an omitted `tagList` is no
    tags."""
    new = body.article
    refuse_blank({"title": new.title, "description": new.description, "body": new.body})
    sent = new.model_dump(include=new.model_fields_set)
    data = native(
        PostCreate,
        {
            "title": new.title,
            "description": new.description,
            "content": new.body,
            "tags": sent.get("tagList", []),
            "published": True,
        },
    )
    with about("article"):
        return one_article(await posts.create(caller.user, data))


@router.get(
    "/articles/{slug}",
    operation_id="GetArticle",
    summary="Get an article",
    description="Get an article. Auth not required",
    response_model=SingleArticleResponse,
    responses=responses(404, 422),
)
async def get_article(
    slug: SlugPath, caller: LenientCaller, posts: PostServiceDep
) -> SingleArticleResponseBody:
    with about("article"):
        return one_article(await published_article(posts, viewer(caller), slug))


@router.put(
    "/articles/{slug}",
    operation_id="UpdateArticle",
    summary="Update an article",
    description="Update an article. Auth is required",
    response_model=SingleArticleResponse,
    responses=responses(401, 403, 404, 422),
)
async def update_article(
    slug: SlugPath, body: UpdateArticleRequest, caller: CurrentCaller, posts: PostServiceDep
) -> SingleArticleResponseBody:
    """A partial update: `tagList` omitted keeps the tags, `[]` clears them, null is a 422.
    The slug stays when the title changes, so links keep working."""
    update = body.article
    sent = update.model_dump(include=update.model_fields_set)
    refuse_blank({name: sent[name] for name in ("title", "description", "body") if name in sent})
    with about("article"):
        post = await published_article(posts, caller.user, slug)
        data = native(PostUpdate, {NATIVE_NAME[name]: value for name, value in sent.items()})
        return one_article(await posts.update(caller.user, post.id, data))


@router.delete(
    "/articles/{slug}",
    operation_id="DeleteArticle",
    summary="Delete an article",
    description="Delete an article. Auth is required",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(401, 403, 404, 422),
)
async def delete_article(slug: SlugPath, caller: CurrentCaller, posts: PostServiceDep) -> Response:
    """Its comments and favorites go with it."""
    with about("article"):
        post = await published_article(posts, caller.user, slug)
        await posts.delete(caller.user, post.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@favorites_router.post(
    "/articles/{slug}/favorite",
    operation_id="CreateArticleFavorite",
    summary="Favorite an article",
    description="Favorite an article. Auth is required",
    response_model=SingleArticleResponse,
    responses=responses(401, 404, 422),
)
async def favorite_article(
    slug: SlugPath, caller: CurrentCaller, posts: PostServiceDep, favorites: FavoriteServiceDep
) -> SingleArticleResponseBody:
    """Favoriting twice is favoriting once."""
    with about("article"):
        post = await published_article(posts, caller.user, slug)
        return one_article(await favorites.favorite(caller.user, post.id))


@favorites_router.delete(
    "/articles/{slug}/favorite",
    operation_id="DeleteArticleFavorite",
    summary="Unfavorite an article",
    description="Unfavorite an article. Auth is required",
    response_model=SingleArticleResponse,
    responses=responses(401, 404, 422),
)
async def unfavorite_article(
    slug: SlugPath, caller: CurrentCaller, posts: PostServiceDep, favorites: FavoriteServiceDep
) -> SingleArticleResponseBody:
    with about("article"):
        post = await published_article(posts, caller.user, slug)
        return one_article(await favorites.unfavorite(caller.user, post.id))
