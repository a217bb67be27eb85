"""Who may do what to posts and comments on the native face, role by role (API.md "Roles (v3)"):
every line of the table, allowed and refused, on one's own posts and on someone else's. A
refusal is a 403 problem (a 404 where the post does not exist for the caller, a draft of
someone else's) and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response

from blog_api.roles import Role
from tests.helpers.api import API, comment
from tests.helpers.factories import RoleSetter, UserFactory
from tests.helpers.roles import Cast, make_cast

C, A, E, ADMIN = Role.CONTRIBUTOR, Role.AUTHOR, Role.EDITOR, Role.ADMIN
OK, CREATED, GONE, FORBIDDEN, HIDDEN = 200, 201, 204, 403, 404
# A scheduled instant: in the future for as long as a test run lasts.
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).isoformat()


# What each role gets, per operation, on its own posts and on another author's.
# (operation, whose): {role: status}
TABLE: dict[tuple[str, str], dict[Role, int]] = {
    ("read draft", "own"): {C: OK, A: OK, E: OK, ADMIN: OK},
    ("read draft", "other"): {C: HIDDEN, A: HIDDEN, E: OK, ADMIN: OK},
    ("edit draft", "own"): {C: OK, A: OK, E: OK, ADMIN: OK},
    ("edit draft", "other"): {C: HIDDEN, A: HIDDEN, E: OK, ADMIN: OK},
    ("publish draft", "own"): {C: FORBIDDEN, A: OK, E: OK, ADMIN: OK},
    ("publish draft", "other"): {C: HIDDEN, A: HIDDEN, E: OK, ADMIN: OK},
    ("schedule draft", "own"): {C: FORBIDDEN, A: OK, E: OK, ADMIN: OK},
    ("schedule draft", "other"): {C: HIDDEN, A: HIDDEN, E: OK, ADMIN: OK},
    ("edit published", "own"): {C: FORBIDDEN, A: OK, E: OK, ADMIN: OK},
    ("edit published", "other"): {C: FORBIDDEN, A: FORBIDDEN, E: OK, ADMIN: OK},
    ("unpublish", "own"): {C: FORBIDDEN, A: OK, E: OK, ADMIN: OK},
    ("unpublish", "other"): {C: FORBIDDEN, A: FORBIDDEN, E: OK, ADMIN: OK},
    ("unpublish by status", "own"): {C: FORBIDDEN, A: OK, E: OK, ADMIN: OK},
    ("unpublish by status", "other"): {C: FORBIDDEN, A: FORBIDDEN, E: OK, ADMIN: OK},
    ("delete draft", "own"): {C: GONE, A: GONE, E: GONE, ADMIN: GONE},
    ("delete draft", "other"): {C: HIDDEN, A: HIDDEN, E: GONE, ADMIN: GONE},
    ("delete published", "own"): {C: FORBIDDEN, A: GONE, E: GONE, ADMIN: GONE},
    ("delete published", "other"): {C: FORBIDDEN, A: FORBIDDEN, E: GONE, ADMIN: GONE},
    # A third user's comment, on a post of the caller's or of the other author's.
    ("delete comment", "own"): {C: GONE, A: GONE, E: GONE, ADMIN: GONE},
    ("delete comment", "other"): {C: FORBIDDEN, A: FORBIDDEN, E: GONE, ADMIN: GONE},
}
CASES = [
    pytest.param(operation, whose, role, status, id=f"{role}-{operation}-{whose}")
    for (operation, whose), statuses in TABLE.items()
    for role, status in statuses.items()
]

Operation = Callable[[Cast, dict[str, Any]], Awaitable[Response]]


def _patch(body: dict[str, Any]) -> Operation:
    async def run(cast: Cast, post: dict[str, Any]) -> Response:
        return await cast.client.patch(
            f"{API}/posts/{post['id']}", json=body, headers=cast.caller["headers"]
        )

    return run


async def _read(cast: Cast, post: dict[str, Any]) -> Response:
    by_id = await cast.client.get(f"{API}/posts/{post['id']}", headers=cast.caller["headers"])
    by_slug = await cast.client.get(
        f"{API}/posts/by-slug/{post['slug']}", headers=cast.caller["headers"]
    )
    assert by_slug.status_code == by_id.status_code
    return by_id


async def _delete(cast: Cast, post: dict[str, Any]) -> Response:
    return await cast.client.delete(f"{API}/posts/{post['id']}", headers=cast.caller["headers"])


# operation: (whether its post is published, what the caller does)
OPERATIONS: dict[str, tuple[bool, Operation]] = {
    "read draft": (False, _read),
    "edit draft": (False, _patch({"title": "Changed"})),
    "publish draft": (False, _patch({"published": True})),
    "schedule draft": (False, _patch({"status": "scheduled", "published_at": TOMORROW})),
    "edit published": (True, _patch({"title": "Changed"})),
    "unpublish": (True, _patch({"published": False})),
    "unpublish by status": (True, _patch({"status": "draft"})),
    "delete draft": (False, _delete),
    "delete published": (True, _delete),
}


@pytest.fixture
async def cast_of(
    client: AsyncClient, make_user: UserFactory, set_role: RoleSetter
) -> Callable[[Role], Awaitable[Cast]]:
    async def make(role: Role) -> Cast:
        return await make_cast(client, make_user, set_role, role)

    return make


def assert_refused(response: Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


@pytest.mark.parametrize(("operation", "whose", "role", "status"), CASES)
async def test_the_roles_table(
    cast_of: Callable[[Role], Awaitable[Cast]],
    make_user: UserFactory,
    operation: str,
    whose: str,
    role: Role,
    status: int,
) -> None:
    cast = await cast_of(role)
    if operation == "delete comment":
        await _delete_comment(cast, make_user, whose, status)
        return
    published, run = OPERATIONS[operation]
    post = await cast.post(whose, published=published)
    response = await run(cast, post)
    after = await cast.stored(post["id"])
    if status >= 400:
        assert_refused(response, status)
        assert after is not None
        assert (after["title"], after["published"]) == (post["title"], post["published"])
        assert after["status"] == post["status"]
        assert after["updated_at"] == post["updated_at"]
        return
    assert response.status_code == status, response.text
    if status == GONE:
        assert after is None
    elif operation != "read draft":
        assert after is not None
        assert after == response.json() | {"favorited": after["favorited"]}
        expected_published = {
            "publish draft": True,
            "schedule draft": False,
            "unpublish": False,
            "unpublish by status": False,
        }.get(operation, published)
        assert after["published"] is expected_published
        if operation == "schedule draft":
            assert after["status"] == "scheduled"
        assert after["author"]["id"] == cast.owner(whose)["id"]


async def _delete_comment(cast: Cast, make_user: UserFactory, whose: str, status: int) -> None:
    post = await cast.post(whose, published=True)
    commenter = await make_user("commenter")
    written = await comment(cast.client, post["id"], commenter["headers"])
    url = f"{API}/posts/{post['id']}/comments/{written['id']}"
    response = await cast.client.delete(url, headers=cast.caller["headers"])
    still = await cast.client.get(url)
    if status >= 400:
        assert_refused(response, status)
        assert still.status_code == 200
    else:
        assert response.status_code == status, response.text
        assert still.status_code == 404


@pytest.mark.parametrize(
    "asked",
    [
        {"published": True},
        {"status": "published"},
        {"status": "published", "published_at": "2020-01-02T03:04:05Z"},  # backdated
        {"status": "scheduled", "published_at": TOMORROW},
    ],
    ids=["published", "status-published", "backdated", "scheduled"],
)
@pytest.mark.parametrize(
    ("role", "status"), [(C, FORBIDDEN), (A, CREATED), (E, CREATED), (ADMIN, CREATED)]
)
async def test_creating_a_post_published_takes_a_role_that_publishes(
    client: AsyncClient,
    make_user: UserFactory,
    set_role: RoleSetter,
    role: Role,
    status: int,
    asked: dict[str, Any],
) -> None:
    user = await make_user("writer")
    await set_role(user["id"], role)
    body = {"title": "Hello", "content": "Body", "tags": ["fresh"], **asked}
    response = await client.post(f"{API}/posts", json=body, headers=user["headers"])
    mine = (await client.get(f"{API}/users/me/posts", headers=user["headers"])).json()
    if status == FORBIDDEN:
        assert_refused(response, FORBIDDEN)
        assert "contributor" in response.json()["detail"]
        # Nothing written: no post, and no tag made on the way.
        assert mine["total"] == 0
        assert (await client.get(f"{API}/tags")).json()["total"] == 0
        return
    assert response.status_code == CREATED, response.text
    scheduled = asked.get("status") == "scheduled"
    assert response.json()["published"] is not scheduled
    assert response.json()["status"] == ("scheduled" if scheduled else "published")
    assert mine["total"] == 1


@pytest.mark.parametrize("role", list(Role))
async def test_anyone_may_write_a_draft(
    client: AsyncClient, make_user: UserFactory, set_role: RoleSetter, role: Role
) -> None:
    user = await make_user("writer")
    await set_role(user["id"], role)
    for body in (
        {"title": "Draft", "content": "Body"},
        {"title": "Draft", "content": "Body", "published": False},
    ):
        response = await client.post(f"{API}/posts", json=body, headers=user["headers"])
        assert response.status_code == CREATED, response.text
        assert response.json()["published"] is False


async def test_a_contributor_sending_published_false_on_a_draft_is_no_publishing(
    cast_of: Callable[[Role], Awaitable[Cast]],
) -> None:
    """`published: false` on a draft changes nothing about publishing: allowed."""
    cast = await cast_of(C)
    post = await cast.post("own", published=False)
    response = await _patch({"published": False, "title": "Still a draft"})(cast, post)
    assert response.status_code == OK, response.text
    assert response.json()["title"] == "Still a draft"


@pytest.mark.parametrize("role", [E, ADMIN])
async def test_editors_see_drafts_and_what_hangs_off_them(
    cast_of: Callable[[Role], Awaitable[Cast]], role: Role
) -> None:
    cast = await cast_of(role)
    draft = await cast.post("other", published=False)
    headers = cast.caller["headers"]
    comments = await cast.client.get(f"{API}/posts/{draft['id']}/comments", headers=headers)
    assert comments.status_code == OK, comments.text
    written = await comment(cast.client, draft["id"], headers, "Needs a better title.")
    assert written["post_id"] == draft["id"]
    # The public list and the author's own are unchanged: drafts are not listed to others.
    public = (await cast.client.get(f"{API}/posts", headers=headers)).json()
    assert public["total"] == 0


async def test_a_role_change_takes_effect_on_the_next_request(
    cast_of: Callable[[Role], Awaitable[Cast]], set_role: RoleSetter
) -> None:
    """Roles are read with the caller on every request: a token issued before a demotion
    carries no power of the old role."""
    cast = await cast_of(A)
    post = await cast.post("own", published=False)
    publish = _patch({"published": True})
    await set_role(cast.caller["id"], C)
    assert_refused(await publish(cast, post), FORBIDDEN)
    await set_role(cast.caller["id"], A)
    assert (await publish(cast, post)).status_code == OK
