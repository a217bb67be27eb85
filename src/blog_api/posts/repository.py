"""Queries on posts: entities (locked) for writes, read models (views.py) for reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, outerjoin, selectinload
from sqlalchemy.sql.functions import Function

from blog_api.counters.repository import counter_value
from blog_api.kit.db import UNICODE_LOWER
from blog_api.kit.listing import INT, TEXT, TIME, AnySelect, Listing, Page, Window, asc, desc
from blog_api.kit.repository import BaseRepository, MissingReference
from blog_api.models import (
    MAX_REVISIONS,
    Counter,
    Favorite,
    Follow,
    Post,
    PostRevision,
    PostSlug,
    PostStatus,
    Tag,
    User,
    post_tags,
)
from blog_api.posts.sorting import PostSort, RevisionSort
from blog_api.posts.views import PostAccess, PostSummaryView, PostView, RevisionView, _PostFields
from blog_api.users.views import PUBLIC_COLUMNS, UserView, read_user

# Each order ends with the id, in the same direction, so that rows sharing a timestamp or a
# title still come in one stable order and paging never repeats or skips one.
POSTS = Listing(
    "posts",
    {
        PostSort.PUBLISHED_DESC: (desc(Post.published_at, TIME), desc(Post.id, INT)),
        PostSort.PUBLISHED: (asc(Post.published_at, TIME), asc(Post.id, INT)),
        PostSort.CREATED_DESC: (desc(Post.created_at, TIME), desc(Post.id, INT)),
        PostSort.CREATED: (asc(Post.created_at, TIME), asc(Post.id, INT)),
        PostSort.TITLE: (asc(Post.title_key, TEXT), asc(Post.id, INT)),
        PostSort.TITLE_DESC: (desc(Post.title_key, TEXT), desc(Post.id, INT)),
    },
)


_POST_COLUMNS = (
    Post.id,
    Post.title,
    Post.slug,
    Post.description,
    Post.published,
    Post.status,
    Post.published_at,
    Post.created_at,
    Post.updated_at,
)
# What follows them: in a list (PostSummaryView), and in a whole post (PostView), which adds
# its Markdown, its HTML and its SEO fields.
_SUMMARY_COLUMNS = (
    Post.excerpt,
    Post.reading_time,
    Post.feature_image,
    Post.feature_image_alt,
    Post.feature_image_caption,
    Post.featured,
)
_WHOLE_COLUMNS = (
    *_SUMMARY_COLUMNS,
    Post.content,
    Post.content_html,
    Post.meta_title,
    Post.meta_description,
    Post.canonical_url,
    Post.og_title,
    Post.og_description,
    Post.og_image,
)


REVISIONS = Listing("revisions", {RevisionSort.NEWEST: (desc(PostRevision.id, INT),)})
_REVISION_POST = bindparam("post_id", type_=Integer)
# A RevisionView's columns before its author, the author's (null once deleted), its time; then
# what decides who may see the post, so that a page needs no statement of its own for it.
_REVISION_OWN = (
    PostRevision.id,
    PostRevision.title,
    PostRevision.description,
    PostRevision.content,
    PostRevision.status,
)
_REVISION_AUTHOR = slice(len(_REVISION_OWN), len(_REVISION_OWN) + len(PUBLIC_COLUMNS))
_REVISION_TOTAL = (
    select(func.count())
    .select_from(PostRevision)
    .where(PostRevision.post_id == _REVISION_POST)
    .scalar_subquery()
)


def _revision_select() -> AnySelect:
    return (
        select(
            *_REVISION_OWN,
            *(column.label(f"author_{column.key}") for column in PUBLIC_COLUMNS),
            PostRevision.created_at,
            Post.published.label("post_published"),
            Post.author_id.label("post_author"),
        )
        .select_from(outerjoin(PostRevision, User, User.id == PostRevision.author_id))
        .join(Post, Post.id == PostRevision.post_id)
        .where(PostRevision.post_id == _REVISION_POST)
    )


def _read_revision(row: Sequence[Any]) -> RevisionView:
    id_, title, description, content, status = row[: _REVISION_AUTHOR.start]
    author = row[_REVISION_AUTHOR]
    return RevisionView(
        id_,
        title,
        description,
        content,
        status,
        None if author[0] is None else read_user(author),
        row[_REVISION_AUTHOR.stop],
    )


PostShape = tuple[str, ...]
"""The names of the filters a PostFilter sets, in field order: what its statement is made of
(their values are bind parameters)."""


class _ListShape(NamedTuple):
    """What the statements of a list of posts are made of (see listing.Listing.fetch)."""

    dialect: str
    viewer: bool
    filters: PostShape


@dataclass(frozen=True, slots=True)
class PostFilter:
    """Which posts a list shows. Each field is a filter, applied when it is set, as its entry
    in `_FILTERS` says: a new filter is a field here and its entry there."""

    published_only: bool = True
    author_id: int | None = None
    author_username: str | None = None
    tag: str | None = None
    q: str | None = None
    favorited_by: str | None = None  # a username
    followed_by: int | None = None  # a user id: posts by the authors that user follows (feed)
    featured: bool | None = None  # featured posts only (True), or those not featured (False)

    def shape(self) -> PostShape:
        """Which filters are set: what the statement is made of (the values are parameters)."""
        return tuple([name for name, f in _FIELDS if f.is_set(getattr(self, name))])

    def scope(self) -> list[Any] | None:
        """What selects the list's rows, for its cursors (see listing.Listing): the filters'
        values, usernames lowercased as they compare; None for every published post, whose
        cursors need none."""
        if self == _EVERY_PUBLISHED_POST:
            return None
        scope: list[Any] = []
        for name, f in _FIELDS:
            value = getattr(self, name)
            if not f.added:
                scope.append(f.compared(value))
            elif f.is_set(value):
                scope.append([name, f.compared(value)])
        return scope

    def params(self, dialect: str) -> dict[str, Any]:
        """The set filters' values, bound to the parameters their conditions name."""
        values = {}
        for name, f in _FIELDS:
            value = getattr(self, name)
            if f.param and f.is_set(value):
                values[f.param] = f.bound(value, dialect)
        return values


@dataclass(frozen=True, slots=True)
class _Filter:
    """What one field of PostFilter does once it is set: `where` is the condition it adds,
    given the name of the bind parameter its value goes to (`param`, if it takes one) and the
    database's dialect."""

    where: Callable[[str, str], ColumnElement[bool]]
    param: str = ""
    # Set when its value is true, not merely given (not None).
    when_true: bool = False
    # Compared lowercased (usernames): in the cursor's scope and in the parameter.
    lowered: bool = False
    # What the parameter holds, made from the compared value for the dialect (else that value).
    to_param: Callable[[str, str], str] | None = None
    # Declared after cursors were handed out: in the scope by name, and only when set, so that
    # the cursors of lists that do not use it stay valid.
    added: bool = False

    def is_set(self, value: Any) -> bool:
        return value is not None and (bool(value) or not self.when_true)

    def compared(self, value: Any) -> Any:
        return value.lower() if self.lowered and value is not None else value

    def bound(self, value: Any, dialect: str) -> Any:
        value = self.compared(value)
        return value if self.to_param is None else self.to_param(value, dialect)


def _tagged(param: str, _dialect: str) -> ColumnElement[bool]:
    tagged = (
        select(post_tags.c.post_id)
        .join(Tag, Tag.id == post_tags.c.tag_id)
        .where(Tag.name == bindparam(param))
    )
    return Post.id.in_(tagged)


def _searched(param: str, dialect: str) -> ColumnElement[bool]:
    pattern = bindparam(param, type_=String)
    return or_(*(_contains_ignoring_case(c, pattern, dialect) for c in _SEARCHED))


def _search_pattern(q: str, dialect: str) -> str:
    text = q.lower() if dialect == "sqlite" else q
    return f"%{_escape_like(text)}%"


def _favorited_by(param: str, _dialect: str) -> ColumnElement[bool]:
    return Post.id.in_(select(Favorite.post_id).where(Favorite.user_id.in_(_user_id(param))))


def _by_followed(param: str, _dialect: str) -> ColumnElement[bool]:
    followed = select(Follow.followed_id).where(Follow.follower_id == bindparam(param))
    return Post.author_id.in_(followed)


# Each field of PostFilter (in its order, the scope's) and what it does once set: the WHERE
# condition it adds, over the bind parameter its value goes to.
_FILTERS: dict[str, _Filter] = {
    "published_only": _Filter(lambda _param, _dialect: Post.published.is_(True), when_true=True),
    "author_id": _Filter(lambda param, _dialect: Post.author_id == bindparam(param), "f_author_id"),
    "author_username": _Filter(
        lambda param, _dialect: Post.author_id.in_(_user_id(param)), "f_author", lowered=True
    ),
    "tag": _Filter(_tagged, "f_tag"),
    "q": _Filter(_searched, "f_q", when_true=True, to_param=_search_pattern),
    "favorited_by": _Filter(_favorited_by, "f_favorited_by", lowered=True),
    "followed_by": _Filter(_by_followed, "f_followed_by"),
    "featured": _Filter(
        lambda param, _dialect: Post.featured == bindparam(param, type_=Boolean),
        "f_featured",
        added=True,
    ),
}
if list(_FILTERS) != [f.name for f in fields(PostFilter)]:
    raise TypeError("_FILTERS holds one entry per field of PostFilter, in the fields' order")
_FIELDS = tuple(_FILTERS.items())
_EVERY_PUBLISHED_POST = PostFilter()


@lru_cache
def _conditions(shape: PostShape, dialect: str) -> tuple[ColumnElement[bool], ...]:
    """The WHERE clause of a filter `shape`, with its values as bind parameters."""
    return tuple(_FILTERS[name].where(_FILTERS[name].param, dialect) for name in shape)


def _user_id(param: str) -> Select[int]:
    """The id of the user whose lowercased name is bound to `param`."""
    return select(User.id).where(func.lower(User.username) == bindparam(param))


_SEARCHED = (Post.title, Post.content)


def _escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _contains_ignoring_case(
    column: InstrumentedAttribute[str], pattern: BindParameter[str], dialect: str
) -> ColumnElement[bool]:
    """`pattern` (%text%, escaped with '/') matched in `column`, ignoring case in all of
    Unicode. PostgreSQL: ILIKE, which the trigram indexes answer. SQLite: its LIKE folds ASCII
    only, so the column goes through the unicode_lower function every SQLite connection has
    (see db.py) and the text is lowercased in Python."""
    if dialect == "sqlite":
        lowered = Function(UNICODE_LOWER, column, type_=column.type)
        return lowered.like(pattern, escape="/")
    return column.ilike(pattern, escape="/")


def _tag_names(dialect: str) -> ColumnElement[str | None]:
    """The post's tag names as one comma-separated text (tag names hold no commas)."""
    aggregate = (
        func.string_agg(Tag.name, ",") if dialect == "postgresql" else func.group_concat(Tag.name)
    )
    return (
        select(aggregate)
        .select_from(post_tags.join(Tag, Tag.id == post_tags.c.tag_id))
        .where(post_tags.c.post_id == Post.id)
        .scalar_subquery()
    )


def _viewer_flags(viewer: bool) -> list[ColumnElement[bool]]:
    """Whether the viewer (bound to `viewer_id`) favorited the post and follows its author;
    false for an anonymous one."""
    if not viewer:
        return [false().label("favorited"), false().label("following_author")]
    viewer_id: BindParameter[int] = bindparam("viewer_id", type_=Integer)
    return [
        exists()
        .where(Favorite.user_id == viewer_id, Favorite.post_id == Post.id)
        .label("favorited"),
        exists()
        .where(Follow.follower_id == viewer_id, Follow.followed_id == Post.author_id)
        .label("following_author"),
    ]


@lru_cache
def _read_select(dialect: str, viewer: bool, content: bool) -> AnySelect:
    """The read rows' SELECT (no WHERE): built once per database, viewer and shape."""
    return (
        select(
            *_POST_COLUMNS,
            *(_WHOLE_COLUMNS if content else _SUMMARY_COLUMNS),
            *(column.label(f"author_{column.key}") for column in PUBLIC_COLUMNS),
            _tag_names(dialect).label("tags"),
            counter_value(Counter.POST_FAVORITES, Post.id).label("favorites_count"),
            counter_value(Counter.POST_COMMENTS, Post.id).label("comments_count"),
            *_viewer_flags(viewer),
        )
        .select_from(Post)
        .join(User, User.id == Post.author_id)
    )


@lru_cache
def _one_post(dialect: str, viewer: bool, by_slug: bool) -> AnySelect:
    # By slug: its current one, or any it had (post_slugs), in the same statement; the service
    # tells an old slug from the current one. The current slug is matched on posts too, for
    # posts inserted outside the service (bulk inserts, imports) with no history yet.
    slug: BindParameter[str] = bindparam("slug", type_=String)
    had = select(PostSlug.post_id).where(PostSlug.slug == slug).scalar_subquery()
    where = or_(Post.slug == slug, Post.id == had) if by_slug else Post.id == bindparam("post_id")
    return _read_select(dialect, viewer, True).where(where)


# The public lists whose exact total a counter keeps, by their filters: all published posts,
# those with one tag, those of one author. Read inside the page's statement, a counter costs an
# index lookup where a count would visit every matching post (bench/RESULTS.md has both at 1M
# posts).
_KEPT_TOTALS: dict[PostShape, Callable[[], ColumnElement[int]]] = {
    ("published_only",): lambda: counter_value(Counter.PUBLISHED_POSTS, 0),
    ("published_only", "author_username"): lambda: counter_value(
        Counter.USER_POSTS, _user_id(_FILTERS["author_username"].param).scalar_subquery()
    ),
    ("published_only", "tag"): lambda: counter_value(
        Counter.TAG_POSTS,
        select(Tag.id).where(Tag.name == bindparam(_FILTERS["tag"].param)).scalar_subquery(),
    ),
}


@lru_cache
def _kept_total(shape: PostShape) -> ColumnElement[int] | None:
    """The exact total of a list whose filters are those of a counter, else None."""
    kept = _KEPT_TOTALS.get(shape)
    return None if kept is None else kept()


PostT = TypeVar("PostT", PostView, PostSummaryView)
# Where `_read_select`'s columns go in a view: the post's own, as _PostFields begins; its text
# and presentation (_SUMMARY_COLUMNS or _WHOLE_COLUMNS), which the views end with; its author's,
# as UserView; its tags; its counts and the viewer's flags, as _PostFields ends. A list's rows
# carry their sort keys and total after them.
_OWN_WIDTH = len(_POST_COLUMNS)
_OWN, _TEXT = slice(0, _OWN_WIDTH), _OWN_WIDTH
_AUTHOR_WIDTH, _COUNTS_AND_FLAGS_WIDTH = 5, 4


def _check_layout() -> None:
    """Fail at import when `_read_select` and the views stop matching the layout above."""
    base = len(fields(_PostFields))  # own, author, tags, counts and flags
    for view, content, text in (
        (PostSummaryView, False, _SUMMARY_COLUMNS),
        (PostView, True, _WHOLE_COLUMNS),
    ):
        keys = [column.key for column in _read_select("sqlite", False, content).selected_columns]
        post = [field.name for field in fields(view)]
        author = [f"author_{field.name}" for field in fields(UserView)]
        own, tail = post[:base], post[base:]
        counts_and_flags = own[_OWN_WIDTH + 2 :]
        expected = [*own[:_OWN_WIDTH], *tail, *author, "tags", *counts_and_flags]
        if (
            keys != expected
            or own[_OWN_WIDTH : _OWN_WIDTH + 2] != ["author", "tags"]
            or tail != [column.key for column in text]
            or len(author) != _AUTHOR_WIDTH
            or len(counts_and_flags) != _COUNTS_AND_FLAGS_WIDTH
        ):
            raise TypeError(f"posts' read columns {keys} do not match {view.__name__}'s fields")


_check_layout()


def _reader(view: type[PostT], text_width: int) -> Callable[[Sequence[Any]], PostT]:
    """How to read a `view` from a row of `_read_select` (its author nested, its tags split
    and sorted), by position: unpacking a row costs less than reading it by name."""

    build: Callable[..., PostT] = view  # by position: what _check_layout checked
    text = slice(_TEXT, _TEXT + text_width)
    author = slice(text.stop, text.stop + _AUTHOR_WIDTH)
    tags_at = author.stop
    counts_and_flags = slice(tags_at + 1, tags_at + 1 + _COUNTS_AND_FLAGS_WIDTH)

    def read(row: Sequence[Any]) -> PostT:
        tags = row[tags_at]
        return build(
            *row[_OWN],
            UserView(*row[author]),
            tuple(sorted(tags.split(","))) if tags else (),
            *row[counts_and_flags],
            *row[text],
        )

    return read


_read_post = _reader(PostView, len(_WHOLE_COLUMNS))
_read_summary = _reader(PostSummaryView, len(_SUMMARY_COLUMNS))


class PostRepository(BaseRepository[Post]):
    model = Post

    # --- reads: read models, one statement

    async def read(
        self, viewer_id: int | None, *, post_id: int | None = None, slug: str | None = None
    ) -> PostView | None:
        """One whole post (content included) by id or slug, with the viewer's flags; None when
        there is none. Who may see it is the service's to decide."""
        stmt = _one_post(self._dialect(), viewer_id is not None, post_id is None)
        params = {"viewer_id": viewer_id, "post_id": post_id, "slug": slug}
        row = (await self.rows(stmt, params)).one_or_none()
        return None if row is None else _read_post(row)

    async def list_summaries(
        self, filters: PostFilter, sort: PostSort, window: Window, *, viewer_id: int | None = None
    ) -> Page[PostSummaryView]:
        """A page of post summaries. A public list that a counter counts (no filter, one
        tag, one author) takes its total from it, inside the page's statement: its first page
        costs what a cursor page costs."""
        dialect = self._dialect()
        viewer, shape = viewer_id is not None, filters.shape()

        def stmt() -> AnySelect:
            return _read_select(dialect, viewer, False).where(*_conditions(shape, dialect))

        def count() -> AnySelect:
            return select(Post.id).where(*_conditions(shape, dialect))

        params = filters.params(dialect)
        if viewer:
            params["viewer_id"] = viewer_id
        page = await POSTS.fetch(
            self.session,
            stmt,
            sort,
            window,
            total=_kept_total(shape),
            params=params,
            shape=_ListShape(dialect, viewer, shape),
            count=count,
            scope=filters.scope(),
        )
        return page.map(_read_summary)

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def get_access(self, post_id: int) -> PostAccess | None:
        """Whether the post is published, and its author: one index lookup, no entity."""
        row = (
            await self.session.execute(
                select(Post.published, Post.author_id).where(Post.id == post_id)
            )
        ).one_or_none()
        return None if row is None else PostAccess(row.published, row.author_id)

    # --- writes: entities, locked

    async def get_full(self, post_id: int, *, for_update: bool = False) -> Post | None:
        """A post with its tags; with `for_update`, locked and read afresh (see
        `get_for_update`)."""
        stmt = select(Post).where(Post.id == post_id).options(selectinload(Post.tags))
        if for_update:
            stmt = stmt.with_for_update(of=Post).execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def attach_author(self, author: User) -> User:
        """The caller's user snapshot, as an object of this session (no query)."""
        return await self.session.merge(author, load=False)

    async def publish_due(self, now: datetime) -> list[int]:
        """Publish every scheduled post whose instant is `now` or past: one statement, so that
        runs racing each other publish each post once (PostgreSQL re-checks the WHERE on a row
        another UPDATE changed; SQLite has one writer), and the counter triggers on
        `published` count it once. `updated_at` stays the author's last change. The ids."""
        stmt = (
            update(Post)
            .where(Post.status == PostStatus.SCHEDULED.value, Post.published_at <= now)
            .values(status=PostStatus.PUBLISHED.value, published=True, updated_at=Post.updated_at)
            .returning(Post.id)
            .execution_options(synchronize_session=False)
        )
        return list((await self.session.scalars(stmt)).all())

    # --- slugs: every slug a post has had is a row of post_slugs, its current one included

    async def add_with_slug(self, post: Post, slug: str) -> None:
        """Insert a new post at `slug`, and the slug into its history, in one SAVEPOINT:
        `UniqueViolation` when any post holds or held the slug (nothing is left written)."""
        post.id = None  # type: ignore[assignment]  # a new id on another attempt
        post.slug = slug
        post.slug_history = [PostSlug(slug=slug)]
        await self.add(post)

    async def slug_owner(self, slug: str) -> int | None:
        """The id of the post that holds or held `slug`, if any."""
        stmt = select(PostSlug.post_id).where(PostSlug.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def keep_slug(self, post_id: int, slug: str, current: str) -> None:
        """Add `slug` to the post's history: `UniqueViolation` when another post took it
        meanwhile (a SAVEPOINT keeps the transaction usable). The `current` slug joins it too
        if it is not there yet (a post inserted outside the service), so that it keeps
        leading to the post."""
        stmt = self.insert(PostSlug).values(slug=current, post_id=post_id)
        await self.execute_guarded(stmt.on_conflict_do_nothing())
        await self.execute_guarded(insert(PostSlug).values(slug=slug, post_id=post_id))

    # --- revisions

    async def add_revision(self, revision: PostRevision) -> None:
        """Keep a replaced version, and only the MAX_REVISIONS newest of the post's: older
        ones are deleted in the same transaction. `MissingReference` when the post or the
        revision's author was deleted meanwhile."""
        try:
            async with self.session.begin_nested():
                self.session.add(revision)
        except IntegrityError as exc:
            raise MissingReference(str(exc.orig)) from exc
        newest = (
            select(PostRevision.id)
            .where(PostRevision.post_id == revision.post_id)
            .order_by(PostRevision.id.desc())
            .limit(MAX_REVISIONS)
        )
        await self.session.execute(
            delete(PostRevision)
            .where(PostRevision.post_id == revision.post_id, PostRevision.id.not_in(newest))
            .execution_options(synchronize_session=False)
        )

    async def get_revision(self, post_id: int, revision_id: int) -> PostRevision | None:
        """The revision, only if it belongs to `post_id`."""
        stmt = select(PostRevision).where(
            PostRevision.id == revision_id, PostRevision.post_id == post_id
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def revisions_page(
        self, post_id: int, window: Window
    ) -> tuple[Page[RevisionView], PostAccess | None]:
        """A page of the post's revisions, newest first, in one statement (its total
        counted inside it). Each row carries what decides who may see the post, handed back
        with the page: None when the page is empty, for the caller to read it then."""
        return await REVISIONS.fetch_under(
            self.session,
            _revision_select,
            RevisionSort.NEWEST,
            window,
            parent=("post_id", post_id),
            total=_REVISION_TOTAL,
            read=_read_revision,
            about_parent=PostAccess.of_row,
        )

    async def delete_by_id(self, post_id: int) -> None:
        """Delete a post; the database removes its tag links, comments, favorites, slugs and
        revisions (ON DELETE CASCADE)."""
        await self.session.execute(delete(Post).where(Post.id == post_id))
