"""The native API (/api/v1) over HTTP: its prefix, the fields of its shapes, and the calls many
tests make (read a post or a profile, comment, favorite, follow) asserting they succeed."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

API = "/api/v1"
PUBLIC_USER_FIELDS = {"id", "username", "bio", "image", "created_at"}
PROFILE_FIELDS = PUBLIC_USER_FIELDS | {
    "posts_count",
    "followers_count",
    "following_count",
    "following",
    "role",
}
COMMENT_FIELDS = {"id", "post_id", "body", "author", "created_at", "updated_at"}
# What a post shows beyond its own columns, in lists and alone (the rendered content's excerpt
# and reading time, the presentation fields), and what only a whole post shows.
PRESENTED_POST_FIELDS = {
    "excerpt",
    "reading_time",
    "feature_image",
    "feature_image_alt",
    "feature_image_caption",
    "featured",
}
WHOLE_POST_ONLY_FIELDS = {
    "content",
    "content_html",
    "meta_title",
    "meta_description",
    "canonical_url",
    "og_title",
    "og_description",
    "og_image",
}


async def get_post(
    client: AsyncClient, post_id: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(f"{API}/posts/{post_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_profile(
    client: AsyncClient, user_id: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(f"{API}/users/{user_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def comment(
    client: AsyncClient, post_id: int, headers: dict[str, str], body: str = "Nice post."
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/posts/{post_id}/comments", json={"body": body}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def favorite(client: AsyncClient, post_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.put(f"{API}/posts/{post_id}/favorite", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def follow(client: AsyncClient, user_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.put(f"{API}/users/{user_id}/follow", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_locs(response: Any) -> list[list[Any]]:
    return [item["loc"] for item in response.json().get("errors", [])]
