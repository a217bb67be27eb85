"""The counters as the application reads them, and as the rows they count say they are."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Select, func, literal, select

from blog_api.models import Comment, Counter, CounterDelta, Favorite, Follow, Post, post_tags

CountMap = dict[tuple[str, int], int]


async def ledger_counts(app: FastAPI) -> CountMap:
    """Every counter's value as the application reads it: the sum of its rows, 0s left out."""
    total = func.sum(CounterDelta.delta)
    stmt = (
        select(CounterDelta.name, CounterDelta.key, total)
        .group_by(CounterDelta.name, CounterDelta.key)
        .having(total != 0)
    )
    async with app.state.session_factory() as session:
        return {(name, key): int(value) for name, key, value in (await session.execute(stmt))}


def _true_count_queries() -> dict[Counter, Select[*tuple[Any, ...]]]:
    published = Post.published.is_(True)
    return {
        Counter.PUBLISHED_POSTS: select(literal(0), func.count()).where(published),
        Counter.USER_POSTS: select(Post.author_id, func.count())
        .where(published)
        .group_by(Post.author_id),
        Counter.TAG_POSTS: select(post_tags.c.tag_id, func.count())
        .join(Post, Post.id == post_tags.c.post_id)
        .where(published)
        .group_by(post_tags.c.tag_id),
        Counter.POST_FAVORITES: select(Favorite.post_id, func.count()).group_by(Favorite.post_id),
        Counter.POST_COMMENTS: select(Comment.post_id, func.count()).group_by(Comment.post_id),
        Counter.USER_FOLLOWERS: select(Follow.followed_id, func.count()).group_by(
            Follow.followed_id
        ),
        Counter.USER_FOLLOWING: select(Follow.follower_id, func.count()).group_by(
            Follow.follower_id
        ),
    }


async def true_counts(app: FastAPI) -> CountMap:
    """Every counter's value counted from the rows themselves, 0s left out."""
    counts: CountMap = {}
    async with app.state.session_factory() as session:
        for name, stmt in _true_count_queries().items():
            for key, value in await session.execute(stmt):
                if value:
                    counts[name.value, int(key)] = int(value)
    return counts


async def assert_counts_exact(app: FastAPI) -> CountMap:
    """Every counter equals the count of the rows it counts; returns the counts."""
    expected = await true_counts(app)
    assert await ledger_counts(app) == expected
    return expected
