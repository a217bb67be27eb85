"""A posts list's filters (posts/repository.py PostFilter): the statement shape they name, the
values they bind, and the scope their cursors digest, which cursors handed out before keep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from blog_api.kit.errors import InvalidInputError
from blog_api.posts.repository import POSTS, PostFilter
from blog_api.posts.sorting import PostSort

MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

# Cursors of the row (MOMENT, 42) in -published_at order, as the app made them before its
# filters were declared one by one: they must stay valid.
CURSORS = [
    (
        PostFilter(),
        "eyJsIjoicG9zdHMiLCJzIjoiLXB1Ymxpc2hlZF9hdCIsImsiOlsiMjAyNi0wMS0wMlQwMzowNDowNS42NzgwMDBa"
        "Iiw0Ml19",
    ),
    (
        PostFilter(tag="python"),
        "eyJsIjoicG9zdHMiLCJzIjoiLXB1Ymxpc2hlZF9hdCIsImsiOlsiMjAyNi0wMS0wMlQwMzowNDowNS42NzgwMDBa"
        "Iiw0Ml0sImYiOiJ5WHdnZ2N1byJ9",
    ),
    (
        PostFilter(author_username="Ann", q="Hello"),
        "eyJsIjoicG9zdHMiLCJzIjoiLXB1Ymxpc2hlZF9hdCIsImsiOlsiMjAyNi0wMS0wMlQwMzowNDowNS42NzgwMDBa"
        "Iiw0Ml0sImYiOiI4UVE0eVRUYiJ9",
    ),
    (
        PostFilter(followed_by=7),
        "eyJsIjoicG9zdHMiLCJzIjoiLXB1Ymxpc2hlZF9hdCIsImsiOlsiMjAyNi0wMS0wMlQwMzowNDowNS42NzgwMDBa"
        "Iiw0Ml0sImYiOiJOVk84RlpieiJ9",
    ),
    (
        PostFilter(published_only=False, author_id=7),
        "eyJsIjoicG9zdHMiLCJzIjoiLXB1Ymxpc2hlZF9hdCIsImsiOlsiMjAyNi0wMS0wMlQwMzowNDowNS42NzgwMDBa"
        "Iiw0Ml0sImYiOiJsMmI0cGcxRCJ9",
    ),
    (
        PostFilter(favorited_by="Bob"),
        "eyJsIjoicG9zdHMiLCJzIjoiLXB1Ymxpc2hlZF9hdCIsImsiOlsiMjAyNi0wMS0wMlQwMzowNDowNS42NzgwMDBa"
        "Iiw0Ml0sImYiOiJObzQxWTd5YSJ9",
    ),
]


@pytest.mark.parametrize(("filters", "cursor"), CURSORS)
def test_cursors_made_before_stay_valid(filters: PostFilter, cursor: str) -> None:
    sort = PostSort.PUBLISHED_DESC
    assert POSTS.encode(sort, [MOMENT, 42], filters.scope()) == cursor
    assert POSTS.decode(sort, cursor, filters.scope()) == (MOMENT, 42)
    for other, _ in CURSORS:
        if other != filters:
            with pytest.raises(InvalidInputError):
                POSTS.decode(sort, cursor, other.scope())


@pytest.mark.parametrize(
    ("filters", "shape", "sqlite", "postgresql"),
    [
        (PostFilter(), ("published_only",), {}, {}),
        (PostFilter(published_only=False, q=""), (), {}, {}),
        (
            PostFilter(author_username="Ann", tag="t", q="50%_Ü/"),
            ("published_only", "author_username", "tag", "q"),
            {"f_author": "ann", "f_tag": "t", "f_q": "%50/%/_ü//%"},
            {"f_author": "ann", "f_tag": "t", "f_q": "%50/%/_Ü//%"},
        ),
        (
            PostFilter(published_only=False, author_id=0, favorited_by="BOB", followed_by=3),
            ("author_id", "favorited_by", "followed_by"),
            {"f_author_id": 0, "f_favorited_by": "bob", "f_followed_by": 3},
            {"f_author_id": 0, "f_favorited_by": "bob", "f_followed_by": 3},
        ),
    ],
)
def test_filters_name_their_shape_and_bind_their_values(
    filters: PostFilter, shape: tuple[str, ...], sqlite: dict[str, Any], postgresql: dict[str, Any]
) -> None:
    assert filters.shape() == shape
    assert filters.params("sqlite") == sqlite
    assert filters.params("postgresql") == postgresql


def test_the_scope_holds_every_filter_in_field_order() -> None:
    assert PostFilter().scope() is None
    assert PostFilter(author_username="Ann", q="", favorited_by="BOB").scope() == [
        True,
        None,
        "ann",
        None,
        "",
        "bob",
        None,
    ]


def test_a_filter_added_later_joins_the_scope_only_when_set() -> None:
    """`featured` came after cursors were handed out: the lists that do not use it keep their
    scopes (and cursors, see CURSORS above); those that do are told apart by its value."""
    unset = [True, None, None, None, None, None, None]
    assert PostFilter(featured=True).scope() == [*unset, ["featured", True]]
    assert PostFilter(featured=False).scope() == [*unset, ["featured", False]]
    assert PostFilter(featured=True).shape() == ("published_only", "featured")
    assert PostFilter(featured=False).params("sqlite") == {"f_featured": False}
    sort = PostSort.PUBLISHED_DESC
    cursor = POSTS.encode(sort, [MOMENT, 42], PostFilter(featured=True).scope())
    for other in (PostFilter(), PostFilter(featured=False), PostFilter(tag="python")):
        with pytest.raises(InvalidInputError):
            POSTS.decode(sort, cursor, other.scope())
