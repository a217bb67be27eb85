"""Lists: rows seeded straight into the database, a list walked by its cursors, the posts
list's sort orders, and cursors made by hand."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import insert

from blog_api.kit.db import Access, transaction
from blog_api.models import Post, Tag, post_tags

SORTS = ["-published_at", "published_at", "-created_at", "created_at", "title", "-title"]


async def seed_posts(app: FastAPI, author_id: int, n: int, *, tags_per_post: int = 0) -> None:
    """n published posts that all share one created_at, straight into the database."""
    moment = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    async with transaction(app.state.session_factory, Access.WRITE) as session:
        await session.execute(
            insert(Post),
            [
                {
                    "author_id": author_id,
                    "title": f"Post {i % 5}",
                    "slug": f"seeded-{i}",
                    "content": f"content {i}",
                    "excerpt": f"content {i}",
                    "published": True,
                    "created_at": moment,
                    "updated_at": moment,
                }
                for i in range(n)
            ],
        )
        if tags_per_post:
            await session.execute(insert(Tag), [{"name": f"t{i}"} for i in range(tags_per_post)])
            post_ids = (
                await session.scalars(Post.__table__.select().with_only_columns(Post.id))
            ).all()
            tag_ids = (
                await session.scalars(Tag.__table__.select().with_only_columns(Tag.id))
            ).all()
            await session.execute(
                insert(post_tags), [{"post_id": p, "tag_id": t} for p in post_ids for t in tag_ids]
            )


async def walk(
    client: AsyncClient,
    path: str,
    *,
    per_page: int,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every item of a list, following next_cursor from an ordinary first request; every
    answer is a 200, and those reached by a cursor carry no total, page or pages."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {**(params or {}), "per_page": per_page}
    first = True
    while True:
        response = await client.get(path, params=query, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        if not first:
            assert (body["total"], body["page"], body["pages"]) == (None, None, None)
        first = False
        items.extend(body["items"])
        if body["next_cursor"] is None:
            return items
        query = {**(params or {}), "per_page": per_page, "cursor": body["next_cursor"]}


def b64(raw: bytes) -> str:
    """`raw` in URL-safe base64 without padding, as cursors are written."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def forge(payload: object) -> str:
    """A cursor holding `payload` as ASCII JSON, made by hand."""
    return b64(json.dumps(payload, separators=(",", ":")).encode())
