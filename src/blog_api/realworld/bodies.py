"""The JSON bodies the RealWorld face answers, as the converters build them: plain dicts (what
a route hands FastAPI, which validates them with the response models of schemas.py, and what a
list page writes straight to JSON), typed so that mypy checks every key and value. Each one is
the shape of the response model of the same name, without `Body` (a test holds them to it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict


class UserBody(TypedDict):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class UserResponseBody(TypedDict):
    user: UserBody


class ProfileBody(TypedDict):
    username: str
    bio: str | None
    image: str | None
    following: bool


class ProfileResponseBody(TypedDict):
    profile: ProfileBody


class ArticleListItemBody(TypedDict):
    slug: str
    title: str
    description: str
    tagList: Sequence[str]
    createdAt: str
    updatedAt: str
    favorited: bool
    favoritesCount: int
    author: ProfileBody


class ArticleBody(ArticleListItemBody):
    body: str


class SingleArticleResponseBody(TypedDict):
    article: ArticleBody


class MultipleArticlesResponseBody(TypedDict):
    articles: list[ArticleListItemBody]
    articlesCount: int


class CommentBody(TypedDict):
    id: int
    createdAt: str
    updatedAt: str
    body: str
    author: ProfileBody


class SingleCommentResponseBody(TypedDict):
    comment: CommentBody


class MultipleCommentsResponseBody(TypedDict):
    comments: list[CommentBody]


class TagsResponseBody(TypedDict):
    tags: list[str]
