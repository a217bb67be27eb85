"""The cast of a permission test: a caller of some role, another author, and an editor who
sets the scene (publishes what a contributor may not), each with a token of the native API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient

from blog_api.roles import Role
from tests.helpers.api import API
from tests.helpers.factories import RoleSetter, UserFactory

# Every role, in rising order of power.
ROLES = tuple(Role)


@dataclass
class Cast:
    client: AsyncClient
    caller: dict[str, Any]  # the user whose permissions are tried
    other: dict[str, Any]  # an author whose posts are "someone else's"
    editor: dict[str, Any]  # publishes drafts of anyone's, so that any post can be made

    def owner(self, whose: str) -> dict[str, Any]:
        return self.caller if whose == "own" else self.other

    async def post(self, whose: str, *, published: bool, title: str = "A post") -> dict[str, Any]:
        """A post of the caller's (`own`) or of the other author's, published or a draft:
        written as a draft by its author, published by the editor."""
        owner = self.owner(whose)
        response = await self.client.post(
            f"{API}/posts",
            json={"title": title, "content": "Some content."},
            headers=owner["headers"],
        )
        assert response.status_code == 201, response.text
        post: dict[str, Any] = response.json()
        if published:
            response = await self.client.patch(
                f"{API}/posts/{post['id']}",
                json={"published": True},
                headers=self.editor["headers"],
            )
            assert response.status_code == 200, response.text
            post = response.json()
        return post

    async def stored(self, post_id: int) -> dict[str, Any] | None:
        """The post as it is now (read by the editor, who sees drafts), or None."""
        response = await self.client.get(f"{API}/posts/{post_id}", headers=self.editor["headers"])
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def make_cast(
    client: AsyncClient, make_user: UserFactory, set_role: RoleSetter, role: Role
) -> Cast:
    caller = await make_user("caller")
    await set_role(caller["id"], role)
    other = await make_user("other")
    editor = await make_user("chief")
    await set_role(editor["id"], Role.EDITOR)
    return Cast(client, caller, other, editor)
