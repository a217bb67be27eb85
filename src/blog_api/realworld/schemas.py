"""The shapes of the RealWorld spec, named as its components are (`User`, `NewArticle`, ...).

Request models only say what the spec says (which fields, which types); the rules a value must
follow are the native schemas' (the routes hand them the values), plus the few RealWorld rules
that differ, which the routes name. Optional request fields that may not be null are typed
without `None`: a null is then refused by validation, and the schema tells the truth.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


def _absent() -> Any:
    """An optional field that may not be null: absent, it is not validated (and
    `model_fields_set` says which fields the client sent); null is refused."""
    return Field(default=None, validate_default=False)


class _In(BaseModel):
    # Unknown fields are ignored on input, as on the native API.
    model_config = ConfigDict(extra="ignore")


class LoginUser(_In):
    email: str
    password: Annotated[str, Field(json_schema_extra={"format": "password"})]


class LoginUserRequest(_In):
    user: LoginUser


class NewUser(_In):
    username: str
    email: str
    password: Annotated[str, Field(json_schema_extra={"format": "password"})]


class NewUserRequest(_In):
    user: NewUser


class UpdateUser(_In):
    email: str = _absent()
    password: str = _absent()
    username: str = _absent()
    bio: str | None = None
    image: str | None = None


class UpdateUserRequest(_In):
    user: UpdateUser


class User(BaseModel):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class UserResponse(BaseModel):
    user: User


class Profile(BaseModel):
    username: str
    bio: str | None
    image: str | None
    following: bool


class ProfileResponse(BaseModel):
    profile: Profile


class ArticleListItem(BaseModel):
    """An article as lists show it: without its body."""

    slug: str
    title: str
    description: str
    tagList: list[str]  # noqa: N815 (the spec's name)
    createdAt: str = Field(json_schema_extra={"format": "date-time"})  # noqa: N815
    updatedAt: str = Field(json_schema_extra={"format": "date-time"})  # noqa: N815
    favorited: bool
    favoritesCount: int  # noqa: N815
    author: Profile


class Article(ArticleListItem):
    body: str


class SingleArticleResponse(BaseModel):
    article: Article


class MultipleArticlesResponse(BaseModel):
    articles: list[ArticleListItem]
    articlesCount: int = Field(  # noqa: N815
        description="How many articles match, whatever limit and offset are"
    )


class NewArticle(_In):
    title: str
    description: str
    body: str
    tagList: list[str] = _absent()  # noqa: N815


class NewArticleRequest(_In):
    article: NewArticle


class UpdateArticle(_In):
    title: str = _absent()
    description: str = _absent()
    body: str = _absent()
    tagList: list[str] = _absent()  # noqa: N815


class UpdateArticleRequest(_In):
    article: UpdateArticle


class Comment(BaseModel):
    id: int
    createdAt: str = Field(json_schema_extra={"format": "date-time"})  # noqa: N815
    updatedAt: str = Field(json_schema_extra={"format": "date-time"})  # noqa: N815
    body: str
    author: Profile


class SingleCommentResponse(BaseModel):
    comment: Comment


class MultipleCommentsResponse(BaseModel):
    comments: list[Comment]


class NewComment(_In):
    body: str


class NewCommentRequest(_In):
    comment: NewComment


class TagsResponse(BaseModel):
    tags: list[str]


class GenericErrorModel(BaseModel):
    errors: dict[str, list[str]]
