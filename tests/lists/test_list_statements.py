"""The list kit builds each list statement once per shape (kit/listing.py): a second identical
request builds none, in every window mode (page, past the first page, offset, cursor)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import Select, func, select
from sqlalchemy.sql.base import Generative

from blog_api.kit.db import Access, transaction
from blog_api.kit.listing import INT, TIME, AnySelect, Listing, Window, desc
from blog_api.models import User
from blog_api.users.sorting import UserSort
from tests.helpers import api
from tests.helpers.factories import PostFactory, UserFactory


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many SQL expressions have been built (each select() and each generative step such
    as .where() or .limit() counts one) since the list was last emptied."""
    count = [0]
    generate, init = Generative._generate, Select.__init__

    def counting_generate(self: Any) -> Any:
        count[0] += 1
        return generate(self)

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        count[0] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(Generative, "_generate", counting_generate)
    monkeypatch.setattr(Select, "__init__", counting_init)
    return count


def _counting(build: Callable[[], AnySelect]) -> tuple[Callable[[], AnySelect], list[int]]:
    calls = [0]

    def counted() -> AnySelect:
        calls[0] += 1
        return build()

    return counted, calls


async def test_fetch_builds_each_statement_once_per_shape(
    app: FastAPI, make_user: UserFactory
) -> None:
    for i in range(5):
        await make_user(f"shaped{i}")
    listing = Listing(
        "shaped", {UserSort.CREATED_DESC: (desc(User.created_at, TIME), desc(User.id, INT))}
    )
    rows, rows_built = _counting(lambda: select(User.id, User.username))
    count, count_built = _counting(lambda: select(User.id))
    kept = select(func.count(User.id)).scalar_subquery()
    sort = UserSort.CREATED_DESC
    async with transaction(app.state.session_factory, Access.READ) as session:
        first = await listing.fetch(session, rows, sort, Window(per_page=2))  # no shape: no cache
        assert first.total == 5
        assert first.next_cursor is not None
        windows = [
            Window(per_page=2),
            Window(per_page=2, page=2),
            Window(per_page=2, offset=1),
            Window(per_page=2, cursor=first.next_cursor),
        ]
        for total, shape in ((None, "counted"), (kept, "kept")):
            rows_built[0] = count_built[0] = 0
            for window in windows:
                for _ in range(2):
                    before = rows_built[0], count_built[0]
                    page = await listing.fetch(
                        session, rows, sort, window, total=total, count=count, shape=shape
                    )
                    assert len(page.items) == 2, window
                    assert page.total == (None if window.cursor else 5), window
                assert (rows_built[0], count_built[0]) == before, (shape, window)
            # Three statements read a shape's rows (the first ones, further ones: offset 1 is
            # read as page 2 is, and those after a cursor); one counts them, when counted.
            assert rows_built[0] == 3, shape
            assert count_built[0] == (total is None), shape
        # Another shape is another statement; without a shape, each fetch builds its own.
        rows_built[0] = 0
        await listing.fetch(session, rows, sort, windows[0], total=kept, shape="other")
        await listing.fetch(session, rows, sort, windows[0], total=kept)
        await listing.fetch(session, rows, sort, windows[0], total=kept)
        assert rows_built[0] == 3


async def test_a_second_identical_list_request_builds_no_statement(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    built: list[int],
) -> None:
    writer = await make_user("builder")
    reader = await make_user("reader")
    for i in range(3):
        await make_user(f"listed{i}")
    posts = [
        await make_post(writer["headers"], title=f"Post {i}", tags=["kit", f"t{i}"], featured=True)
        for i in range(5)
    ]
    for post in posts[:4]:
        await api.favorite(client, post["id"], reader["headers"])
    for i in range(5):
        await api.comment(client, posts[0]["id"], reader["headers"], f"Comment {i}")
    lists = [
        ("/api/v1/posts", {}),
        ("/api/v1/posts", {"sort": "title"}),
        ("/api/v1/posts", {"tag": "kit"}),
        ("/api/v1/posts", {"author": "builder"}),
        ("/api/v1/posts", {"q": "post", "favorited_by": "reader"}),
        ("/api/v1/posts", {"featured": "true"}),
        (f"/api/v1/posts/{posts[0]['id']}/comments", {}),
        ("/api/v1/users", {}),
        ("/api/v1/tags", {}),
    ]
    for path, filters in lists:
        first = (await client.get(path, params={**filters, "per_page": 2})).json()
        windows = [
            {"per_page": 2},
            {"per_page": 2, "page": 2},
            {"per_page": 2, "cursor": first["next_cursor"]},
        ]
        for window in windows:
            params = {**filters, **window}
            assert (await client.get(path, params=params)).status_code == 200
            built[0] = 0
            response = await client.get(path, params=params)
            assert response.status_code == 200
            assert len(response.json()["items"]) == 2, (path, params)
            assert built[0] == 0, (path, params)
    for offset in (0, 2):
        params = {"limit": 2, "offset": offset, "tag": "kit"}
        assert (await client.get("/api/articles", params=params)).status_code == 200
        built[0] = 0
        assert (await client.get("/api/articles", params=params)).status_code == 200
        assert built[0] == 0, params
