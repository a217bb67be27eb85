"""Post shapes. Tags are normalised here, on the way in: trimmed, lowercased, deduplicated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from blog_api.kit.rules import (
    EXCERPT_LENGTH,
    HTTP_URL_PATTERN,
    MAX_TAGS,
    TAG_INPUT_PATTERN,
    TITLE_PATTERN,
    check_http_url,
    check_title,
    normalize_tag,
)
from blog_api.kit.schemas import Text, not_nullable
from blog_api.models import PostStatus
from blog_api.posts.slugs import MAX_SLUG_INPUT_LENGTH, SLUG_INPUT_PATTERN, normalize_slug
from blog_api.posts.sorting import PostSort
from blog_api.users.schemas import UserPublic

__all__ = [
    "Post",
    "PostCreate",
    "PostSort",
    "PostStatus",
    "PostSummary",
    "PostUpdate",
    "Revision",
]


def _normalize_tags(raw: list[str]) -> list[str]:
    return sorted({normalize_tag(item) for item in raw})


# At most MAX_TAGS names as sent (duplicates included): a limit the schema can state, so that a
# client's own validation and the server's agree.
TagList = Annotated[
    list[Annotated[str, Field(max_length=64, json_schema_extra={"pattern": TAG_INPUT_PATTERN})]],
    Field(
        max_length=MAX_TAGS,
        description=f"At most {MAX_TAGS} tag names; trimmed, lowercased, duplicates collapsed",
        examples=[["python", "async"]],
    ),
    AfterValidator(_normalize_tags),
]
Title = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=200,
        description="1-200 characters, something visible among them; no control characters "
        "and no bidirectional overrides",
        # In the schema only: the rule is check_title (the pattern covers the BMP).
        json_schema_extra={"pattern": TITLE_PATTERN},
    ),
    AfterValidator(check_title),
]
Content = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=100_000,
        description="Markdown: CommonMark, plus GitHub's tables, strikethrough and autolinks "
        "(1-100,000 characters)",
    ),
]
Description = Annotated[Text, Field(max_length=300, description="The author's short summary")]


def _url(max_length: int, what: str) -> Any:
    """The Field of an http(s) URL of at most `max_length` characters."""
    return Field(
        max_length=max_length,
        description=f"{what}: an absolute http or https URL with a host (no spaces or control "
        f"characters), at most {max_length:,} characters; stored as sent",
        examples=["https://example.com/images/cover.jpg"],
        json_schema_extra={"pattern": HTTP_URL_PATTERN},
    )


def _text(max_length: int, what: str) -> Any:
    return Field(max_length=max_length, description=f"{what}, at most {max_length} characters")


_CHECKED_URL = AfterValidator(check_http_url)
# Presentation and SEO (limits as Ghost's posts and posts_meta).
FeatureImage = Annotated[str, _url(2000, "The post's feature image"), _CHECKED_URL]
FeatureImageAlt = Annotated[Text, _text(191, "The feature image's alternative text")]
FeatureImageCaption = Annotated[Text, _text(500, "The feature image's caption")]
MetaTitle = Annotated[Text, _text(300, "The title search engines show")]
MetaDescription = Annotated[Text, _text(500, "The description search engines show")]
CanonicalUrl = Annotated[
    str, _url(2000, "The post's canonical URL (where it was first published)"), _CHECKED_URL
]
OgTitle = Annotated[Text, _text(300, "The title of the post's Open Graph card")]
OgDescription = Annotated[Text, _text(500, "The description of the post's Open Graph card")]
OgImage = Annotated[str, _url(2000, "The image of the post's Open Graph card"), _CHECKED_URL]
Featured = Annotated[StrictBool, Field(description="Whether the post is featured")]


SlugInput = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_SLUG_INPUT_LENGTH,
        description="The post's slug, normalised as a title's is (lowercased; accents "
        "dropped; anything but a-z and 0-9 becomes one '-'): it needs a letter or digit. "
        "Every slug a post has had keeps leading to it; one that another post holds or held "
        "is a 409.",
        examples=["my-first-post"],
        json_schema_extra={"pattern": SLUG_INPUT_PATTERN},
    ),
    AfterValidator(normalize_slug),
]


class _PresentationInput(BaseModel):
    """The optional fields a post is presented with; null (or omitted) is none."""

    feature_image: FeatureImage | None = None
    feature_image_alt: FeatureImageAlt | None = None
    feature_image_caption: FeatureImageCaption | None = None
    meta_title: MetaTitle | None = None
    meta_description: MetaDescription | None = None
    canonical_url: CanonicalUrl | None = None
    og_title: OgTitle | None = None
    og_description: OgDescription | None = None
    og_image: OgImage | None = None


# What a post is presented with, stored as sent.
PRESENTATION_FIELDS = frozenset({*_PresentationInput.model_fields, "featured"})
# The fields that null clears on PATCH (the others refuse null).
NULLABLE_UPDATES = frozenset({"description", *_PresentationInput.model_fields})


# The instants a post may be published at: what every database stores and the API prints.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _in_utc(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except OverflowError:  # leaves the calendar once moved to UTC (year 1 at +01:00)
        moment = None
    if moment is None or not _EARLIEST <= moment < _LATEST:
        raise ValueError("published_at must lie between the years 1970 and 9998")
    return moment


def _iso_text(value: Any) -> Any:
    """Only the text the schema describes: not a number of seconds, which pydantic would read."""
    if not isinstance(value, str | datetime):
        raise ValueError("published_at must be an ISO 8601 date and time with a UTC offset")
    return value


PublishedAt = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    Field(
        description="ISO 8601 with a UTC offset (a time without one is refused, never read "
        "as local time). With status scheduled: when the post goes live, in the future. "
        "With status published: a past instant backdates the post (imports).",
        examples=["2026-12-24T08:00:00Z"],
    ),
    AfterValidator(_in_utc),
]


def _last_read_in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # leaves the calendar once moved to UTC (year 1 at +01:00)
        raise ValueError("updated_at lies outside the calendar once moved to UTC") from None


def _last_read_text(value: Any) -> Any:
    """Only the text the schema describes: not a number of seconds, which pydantic would read."""
    if not isinstance(value, str | datetime):
        raise ValueError("updated_at must be an ISO 8601 date and time with a UTC offset")
    return value


LastRead = Annotated[
    AwareDatetime, BeforeValidator(_last_read_text), AfterValidator(_last_read_in_utc)
]
StatusField = Annotated[
    PostStatus,
    Field(
        description="draft, scheduled (goes live at published_at) or published; `published` "
        "is its shorthand (true: published, false: draft), and both sent must agree"
    ),
]


def requested_status(
    published: bool | None, status: PostStatus | None, sent: set[str]
) -> PostStatus | None:
    """The status a request asks for (None: unchanged): `status`, or `published` as its
    shorthand; both sent and disagreeing is an error."""
    shorthand = None
    if "published" in sent and published is not None:
        shorthand = PostStatus.PUBLISHED if published else PostStatus.DRAFT
    if "status" in sent and status is not None:
        if shorthand is not None and shorthand is not status:
            raise ValueError(
                f"published={str(published).lower()} and status={status.value} disagree: "
                "send one of them"
            )
        return status
    return shorthand


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


StrippedTitle = Annotated[Title, BeforeValidator(_strip)]


class PostCreate(_PresentationInput):
    title: StrippedTitle
    content: Content
    description: Description | None = None
    published: StrictBool = False
    status: StatusField | None = None
    published_at: PublishedAt | None = None
    tags: TagList = []
    featured: Featured = False
    slug: SlugInput | None = Field(None, description="Derived from the title when omitted")

    @model_validator(mode="after")
    def _one_status(self) -> PostCreate:
        requested_status(self.published, self.status, self.model_fields_set)
        return self

    def requested_status(self) -> PostStatus:
        """draft unless published or status say otherwise."""
        asked = requested_status(self.published, self.status, self.model_fields_set)
        return asked or PostStatus.DRAFT


class PostUpdate(_PresentationInput):
    """Only the fields sent are changed; `tags`, when sent, replaces the whole set; null
    removes the description and the presentation and SEO fields."""

    # Omitted means unchanged, but null is refused (except where NULLABLE_UPDATES says): the
    # schema says so.
    model_config = ConfigDict(
        json_schema_extra=not_nullable(
            "title",
            "content",
            "published",
            "status",
            "published_at",
            "tags",
            "featured",
            "slug",
            "updated_at",
        )
    )

    title: StrippedTitle | None = None
    content: Content | None = None
    description: Description | None = Field(None, description="null removes it")
    published: StrictBool | None = None
    status: StatusField | None = None
    published_at: PublishedAt | None = None
    tags: TagList | None = None
    featured: Featured | None = None
    slug: SlugInput | None = None
    updated_at: LastRead | None = Field(
        None,
        description="The post's updated_at as last read (with its UTC offset): when the post "
        "has changed since, the answer is a 409 and nothing is written. Omitted: the last "
        "write wins.",
        examples=["2026-12-04T10:00:00.123456Z"],
    )

    @model_validator(mode="after")
    def _one_status(self) -> PostUpdate:
        requested_status(self.published, self.status, self.model_fields_set)
        return self

    def requested_status(self) -> PostStatus | None:
        """The status asked for; None: unchanged."""
        return requested_status(self.published, self.status, self.model_fields_set)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if name in cls.model_fields and name not in NULLABLE_UPDATES and value is None:
                    raise ValueError(f"{name} cannot be null")
        return data


class _PostBase(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    slug: str
    description: str | None
    published: bool = Field(description="Whether status is published")
    status: PostStatus
    published_at: datetime | None = Field(
        description="When the post was first published (backdated by imports), or, while "
        "scheduled, when it goes live; null for a draft never published"
    )
    author: UserPublic
    tags: list[str] = Field(description="Tag names, sorted")
    favorites_count: int = Field(description="How many users favorited the post")
    comments_count: int
    favorited: bool = Field(description="Whether the caller favorited it (false when anonymous)")
    created_at: datetime
    updated_at: datetime
    excerpt: str = Field(
        description=f"The start of the content's plain text (rendered, without Markdown "
        f"syntax), at most {EXCERPT_LENGTH} characters, cut at a word boundary with an "
        "ellipsis when cut"
    )
    reading_time: int = Field(
        ge=1,
        description="Minutes to read it, at least 1: ceil(words / 275 + 0.2 * images) over "
        "the rendered content",
    )
    feature_image: str | None = Field(description="An http(s) URL, or null")
    feature_image_alt: str | None
    feature_image_caption: str | None
    featured: bool


class Post(_PostBase):
    content: str = Field(description="Markdown, as written")
    content_html: str = Field(
        description="The content rendered once when written, then sanitised: no script, "
        "style, iframe, event-handler attributes, or javascript:/data: URLs; links carry "
        'rel="nofollow noopener"'
    )
    meta_title: str | None
    meta_description: str | None
    canonical_url: str | None
    og_title: str | None
    og_description: str | None
    og_image: str | None


class Revision(BaseModel):
    """A version of a post that a change replaced."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str | None
    content: str = Field(description="Markdown, as it was")
    status: PostStatus = Field(description="The post's status in that version")
    author: UserPublic | None = Field(
        description="Who wrote that version away: the user whose change replaced it (and "
        "so made this revision); null once that account is deleted"
    )
    created_at: datetime = Field(description="When the change replaced it")


class PostSummary(_PostBase):
    """A list item: a post without its content (nor its HTML and SEO fields), with the start
    of the content."""
