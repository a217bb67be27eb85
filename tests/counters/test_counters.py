"""Counts are exact after every commit, cascades included, and racing writes never fail or
deadlock over them (one ledger of counter deltas, folded from time to time)."""

from __future__ import annotations

import asyncio
from collections import Counter as Tally
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, func, insert, select

from blog_api.config import Settings
from blog_api.counters.service import fold_counters
from blog_api.kit.db import Access, transaction
from blog_api.main import create_app
from blog_api.models import Comment, Counter, CounterDelta, Favorite, Follow, Post, User
from tests.helpers.counts import assert_counts_exact, ledger_counts
from tests.helpers.factories import PostFactory, UserFactory


async def test_counts_follow_creates_publishes_edits_and_deletes(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    first = await make_post(alice["headers"], tags=["python", "sql"])
    draft = await make_post(alice["headers"], published=False, tags=["python"])
    await make_post(bob["headers"], tags=["python"])
    await assert_counts_exact(app)
    counts = await ledger_counts(app)
    assert counts[Counter.PUBLISHED_POSTS.value, 0] == 2
    assert counts[Counter.USER_POSTS.value, alice["id"]] == 1
    assert counts[Counter.USER_POSTS.value, bob["id"]] == 1

    for change in ({"published": True}, {"tags": ["go"]}, {"published": False}):
        response = await client.patch(
            f"/api/v1/posts/{draft['id']}", json=change, headers=alice["headers"]
        )
        assert response.status_code == 200, response.text
        await assert_counts_exact(app)
    response = await client.patch(
        f"/api/v1/posts/{first['id']}",
        json={"published": False, "tags": ["rust"]},
        headers=alice["headers"],
    )
    assert response.status_code == 200
    await assert_counts_exact(app)
    response = await client.delete(f"/api/v1/posts/{first['id']}", headers=alice["headers"])
    assert response.status_code == 204
    await assert_counts_exact(app)
    tags = (await client.get("/api/v1/tags")).json()
    assert tags["items"] == [{"name": "python", "post_count": 1}]


async def _add_social_rows(app: FastAPI, users: list[int], posts: list[int]) -> None:
    """Every user favorites and comments on every post and follows every other user."""
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        session.add_all(Favorite(user_id=u, post_id=p) for u in users for p in posts)
        session.add_all(
            Comment(post_id=p, author_id=u, body=f"{u} on {p}") for u in users for p in posts
        )
        session.add_all(
            Follow(follower_id=a, followed_id=b) for a in users for b in users if a != b
        )


async def test_favorites_comments_and_follows_are_counted_through_cascades(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    users = [await make_user(f"member{i}") for i in range(4)]
    ids = [u["id"] for u in users]
    posts = [
        await make_post(users[i % 4]["headers"], title=f"p{i}", tags=["shared", f"own{i}"])
        for i in range(6)
    ]
    post_ids = [p["id"] for p in posts]
    await _add_social_rows(app, ids, post_ids)
    counts = await assert_counts_exact(app)
    assert counts[Counter.POST_FAVORITES.value, post_ids[0]] == 4
    assert counts[Counter.POST_COMMENTS.value, post_ids[0]] == 4
    assert counts[Counter.USER_FOLLOWERS.value, ids[0]] == 3
    assert counts[Counter.USER_FOLLOWING.value, ids[0]] == 3

    # Unfavorite, uncomment, unfollow one by one.
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(
            delete(Favorite).where(Favorite.user_id == ids[1], Favorite.post_id == post_ids[0])
        )
        await session.execute(
            delete(Comment).where(Comment.author_id == ids[1], Comment.post_id == post_ids[0])
        )
        await session.execute(
            delete(Follow).where(Follow.follower_id == ids[1], Follow.followed_id == ids[0])
        )
    counts = await assert_counts_exact(app)
    assert counts[Counter.POST_FAVORITES.value, post_ids[0]] == 3
    assert counts[Counter.USER_FOLLOWERS.value, ids[0]] == 2

    # A post deleted takes its favorites and comments.
    response = await client.delete(f"/api/v1/posts/{post_ids[1]}", headers=users[1]["headers"])
    assert response.status_code == 204
    counts = await assert_counts_exact(app)
    assert (Counter.POST_FAVORITES.value, post_ids[1]) not in counts

    # A user deleted takes their posts (with their tags, favorites and comments), their own
    # favorites and comments on other posts, and their follows both ways.
    response = await client.delete("/api/v1/users/me", headers=users[0]["headers"])
    assert response.status_code == 204
    counts = await assert_counts_exact(app)
    assert counts[Counter.POST_FAVORITES.value, post_ids[2]] == 3
    assert counts[Counter.USER_FOLLOWERS.value, ids[2]] == 2
    assert counts[Counter.USER_FOLLOWING.value, ids[2]] == 2
    assert (Counter.USER_POSTS.value, ids[0]) not in counts

    # The folds change how the counts are stored, never what they are.
    await fold_counters(app.state.session_factory)
    assert await assert_counts_exact(app) == counts
    async with app.state.session_factory() as session:
        rows = (
            await session.execute(
                select(CounterDelta.name, CounterDelta.key, func.count()).group_by(
                    CounterDelta.name, CounterDelta.key
                )
            )
        ).all()
        pending = await session.scalar(select(func.count()).where(CounterDelta.pending.is_(True)))
    assert all(n == 1 for *_, n in rows), rows
    assert pending == 0
    assert len(rows) == len(counts)  # counters that came back to 0 left no row


async def test_fold_in_small_batches_keeps_every_count(
    app: FastAPI, make_user: UserFactory, make_post: PostFactory
) -> None:
    users = [await make_user(f"folder{i}") for i in range(3)]
    posts = [await make_post(users[0]["headers"], title=f"f{i}", tags=["a", "b"]) for i in range(5)]
    await _add_social_rows(app, [u["id"] for u in users], [p["id"] for p in posts])
    before = await assert_counts_exact(app)
    assert await fold_counters(app.state.session_factory, batch=3) > 0
    assert await assert_counts_exact(app) == before
    assert await fold_counters(app.state.session_factory, batch=3) == 0


async def test_racing_deletes_and_creates_sharing_tags_all_succeed_with_exact_counts(
    app: FastAPI, client: AsyncClient, make_user: UserFactory, make_post: PostFactory
) -> None:
    """24 deletes and 12 creates of published posts sharing tags (existing and new ones), at
    once, several rounds, with folds racing them: every request 2xx, every count exact."""
    writers = [await make_user(f"writer{i}") for i in range(4)]
    existing = ["python", "sql", "web"]
    for round_ in range(4):
        victims = [
            await make_post(
                writers[i % 4]["headers"],
                title=f"victim {round_}-{i}",
                tags=[existing[i % 3], existing[(i + 1) % 3], f"old{round_}"],
            )
            for i in range(24)
        ]
        new = [f"new{round_}a", f"new{round_}b"]

        async def create(i: int, new: list[str] = new) -> Any:
            # Tags listed in different orders: creation sorts them, so no two requests take
            # the same locks in different orders.
            tags = [new[i % 2], new[(i + 1) % 2], *existing]
            tags = tags[::-1] if i % 3 else tags
            return await client.post(
                "/api/v1/posts",
                headers=writers[i % 4]["headers"],
                json={"title": f"fresh {i}", "content": "c", "published": True, "tags": tags},
            )

        async def remove(post: dict[str, Any]) -> Any:
            owner = next(w for w in writers if w["id"] == post["author"]["id"])
            return await client.delete(f"/api/v1/posts/{post['id']}", headers=owner["headers"])

        # Interleaved: delete, delete, create, delete, delete, create, ...
        calls = []
        for i in range(12):
            calls += [remove(victims[2 * i]), remove(victims[2 * i + 1]), create(i)]
        *responses, _ = await asyncio.gather(*calls, fold_counters(app.state.session_factory))
        statuses = Tally(r.status_code for r in responses)
        assert statuses == {204: 24, 201: 12}, [r.text for r in responses if r.status_code >= 300]
        await assert_counts_exact(app)

    total = (await client.get("/api/v1/posts")).json()["total"]
    assert total == 4 * 12
    tags = {t["name"]: t["post_count"] for t in (await client.get("/api/v1/tags")).json()["items"]}
    assert tags["python"] == tags["sql"] == tags["web"] == 48
    assert tags["new0a"] == 12
    assert "old0" not in tags


async def test_racing_favorites_follows_and_comments_are_all_counted(
    app: FastAPI, make_user: UserFactory, make_post: PostFactory
) -> None:
    """Many transactions adding rows counted by the same counters at once never wait on one
    another's counter rows: each appends its own delta."""
    users = [await make_user(f"fan{i}") for i in range(12)]
    star = users[0]
    post = await make_post(star["headers"], tags=["hot"])

    async def one(user_id: int) -> None:
        async with transaction(app.state.session_factory, Access.WRITE) as session:
            session.add(Favorite(user_id=user_id, post_id=post["id"]))
            session.add(Comment(post_id=post["id"], author_id=user_id, body="hi"))
            session.add(Follow(follower_id=user_id, followed_id=star["id"]))

    await asyncio.gather(*(one(u["id"]) for u in users[1:]))
    counts = await assert_counts_exact(app)
    assert counts[Counter.POST_FAVORITES.value, post["id"]] == 11
    assert counts[Counter.POST_COMMENTS.value, post["id"]] == 11
    assert counts[Counter.USER_FOLLOWERS.value, star["id"]] == 11


async def test_rows_written_without_the_orm_are_counted_too(
    app: FastAPI, make_user: UserFactory
) -> None:
    user = await make_user("bulk")
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(
            insert(Post),
            [
                {
                    "author_id": user["id"],
                    "title": f"Bulk {i}",
                    "slug": f"bulk-{i}",
                    "content": "c",
                    "excerpt": "c",
                    "published": i % 2 == 0,
                }
                for i in range(10)
            ],
        )
        keys = (await session.scalars(select(Post.title_key).order_by(Post.id))).all()
    assert keys[0] == "bulk 0"
    counts = await assert_counts_exact(app)
    assert counts[Counter.USER_POSTS.value, user["id"]] == 5
    assert set(await ledger_counts(app)) == set(counts)
    async with app.state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_a_served_app_folds_in_the_background(
    app: FastAPI, settings: Settings, make_user: UserFactory, make_post: PostFactory
) -> None:
    user = await make_user("background")
    for i in range(3):
        await make_post(user["headers"], title=f"b{i}", tags=["t"])
    served = create_app(settings.model_copy(update={"counter_fold_seconds": 0.05}))
    async with served.router.lifespan_context(served):
        for _ in range(100):
            await asyncio.sleep(0.05)
            async with app.state.session_factory() as session:
                pending = await session.scalar(
                    select(func.count()).where(CounterDelta.pending.is_(True))
                )
            if pending == 0:
                break
    assert pending == 0
    counts = await assert_counts_exact(app)
    assert counts[Counter.PUBLISHED_POSTS.value, 0] == 3
