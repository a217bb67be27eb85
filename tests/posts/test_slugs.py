"""Slugs: running out of slug attempts is a clean, retryable answer."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from blog_api.posts import service as post_service
from tests.helpers.factories import PostFactory, UserFactory


async def test_no_free_slug_is_a_retryable_503_that_stores_nothing(
    client: AsyncClient,
    make_user: UserFactory,
    make_post: PostFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = await make_user("prolific")
    await make_post(user["headers"], title="Same")
    # Every suffix the service tries is the same one, so once it is taken nothing is free.
    monkeypatch.setattr(post_service, "with_random_suffix", lambda base: f"{base}-taken")
    await make_post(user["headers"], title="Same")
    response = await client.post(
        "/api/v1/posts", headers=user["headers"], json={"title": "Same", "content": "c"}
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert "try again" in response.json()["detail"]
    mine = (await client.get("/api/v1/users/me/posts", headers=user["headers"])).json()
    assert mine["total"] == 2
