"""The shapes of the RealWorld spec, named as its components are (`User`, `NewArticle`, ...).

Request models have the spec's fields and types, and state the rules the server holds their
values to, so that the document tells a client what it may send: the native schemas' rules
(the routes hand them the values, and they decide) as `native_rules` reads them from the
native document, and RealWorld's own, that a required text is not blank (the routes'
`refuse_blank`). Only the document states them here: the native schemas and the routes
decide, and the face reports their verdicts in RealWorld's shape.

Optional request fields that may not be null are typed without `None`: a null is then refused
by validation, and the schema tells the truth.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from blog_api.comments.schemas import CommentCreate
from blog_api.kit.rules import IMAGE_URL_PATTERN, VISIBLE_PATTERN, VISIBLE_TEXT_PATTERN
from blog_api.posts.schemas import PostCreate
from blog_api.users.schemas import UserCreate, UserUpdate

# The JSON Schema keywords that constrain a value (the rest describe it).
_CONSTRAINTS = ("minLength", "maxLength", "pattern", "format", "maxItems", "items")


def native_rules(model: type[BaseModel], field: str, **overrides: Any) -> dict[str, Any]:
    """The constraints the native document states for `model.field` (of its non-null
    variant), with `overrides` on top: a `json_schema_extra` for the RealWorld field whose
    value the route hands to that native field."""
    schema = model.model_json_schema()["properties"][field]
    (variant,) = [item for item in schema.get("anyOf", [schema]) if item.get("type") != "null"]
    return {**{key: variant[key] for key in _CONSTRAINTS if key in variant}, **overrides}


def _rules(extra: dict[str, Any]) -> Any:
    return Field(json_schema_extra=extra)


def _absent(extra: dict[str, Any] | None = None) -> Any:
    """An optional field that may not be null: absent, it is not validated (and
    `model_fields_set` says which fields the client sent); null is refused."""
    return Field(default=None, validate_default=False, json_schema_extra=extra)


# Required text is not blank (RealWorld's `can't be blank`): something visible, and, for
# text that is stored, no NUL.
NOT_BLANK = {"pattern": VISIBLE_PATTERN}
PASSWORD = {"format": "password"}
USERNAME = native_rules(UserCreate, "username")
EMAIL = native_rules(UserCreate, "email")
NEW_PASSWORD = native_rules(UserCreate, "password", pattern=VISIBLE_TEXT_PATTERN)
BIO = native_rules(UserUpdate, "bio")
# An empty image stores null, as an empty bio does.
IMAGE = native_rules(UserUpdate, "image", pattern=f"^$|{IMAGE_URL_PATTERN}")
TITLE = native_rules(PostCreate, "title")
DESCRIPTION = native_rules(PostCreate, "description", pattern=VISIBLE_TEXT_PATTERN)
BODY = native_rules(PostCreate, "content", pattern=VISIBLE_TEXT_PATTERN)
TAG_LIST = native_rules(PostCreate, "tags")
COMMENT = native_rules(CommentCreate, "body")


class _In(BaseModel):
    # Unknown fields are ignored on input, as on the native API.
    model_config = ConfigDict(extra="ignore")


class LoginUser(_In):
    email: Annotated[str, _rules(NOT_BLANK)]
    password: Annotated[str, _rules({**PASSWORD, **NOT_BLANK})]


class LoginUserRequest(_In):
    user: LoginUser


class NewUser(_In):
    username: Annotated[str, _rules(USERNAME)]
    email: Annotated[str, _rules(EMAIL)]
    password: Annotated[str, _rules({**PASSWORD, **NEW_PASSWORD})]


class NewUserRequest(_In):
    user: NewUser


class UpdateUser(_In):
    email: str = _absent(EMAIL)
    password: str = _absent(NEW_PASSWORD)
    username: str = _absent(USERNAME)
    bio: Annotated[str, _rules(BIO)] | None = None
    image: Annotated[str, _rules(IMAGE)] | None = None


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
    title: Annotated[str, _rules(TITLE)]
    description: Annotated[str, _rules(DESCRIPTION)]
    body: Annotated[str, _rules(BODY)]
    tagList: list[str] = _absent(TAG_LIST)  # noqa: N815


class NewArticleRequest(_In):
    article: NewArticle


class UpdateArticle(_In):
    title: str = _absent(TITLE)
    description: str = _absent(DESCRIPTION)
    body: str = _absent(BODY)
    tagList: list[str] = _absent(TAG_LIST)  # noqa: N815


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
    body: Annotated[str, _rules(COMMENT)]


class NewCommentRequest(_In):
    comment: NewComment


class TagsResponse(BaseModel):
    tags: list[str]


class GenericErrorModel(BaseModel):
    errors: dict[str, list[str]]
