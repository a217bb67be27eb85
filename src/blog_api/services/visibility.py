"""Who may see a post, and so everything hanging off it (its comments and favorites).

The one place that decides it: a draft, and all that hangs off it, does not exist for anyone
but its author and superusers.
"""

from __future__ import annotations

from blog_api.errors import CALLER_GONE, AuthenticationError, DomainError, NotFoundError
from blog_api.models import User
from blog_api.repositories.posts import PostAccess


def viewer_id(viewer: User | None) -> int | None:
    """The id a read's per-viewer flags are for (None: an anonymous reader)."""
    return None if viewer is None else viewer.id


def may_see_post(viewer: User | None, *, published: bool, author_id: int) -> bool:
    if published:
        return True
    return viewer is not None and (viewer.is_superuser or viewer.id == author_id)


def visible_post(viewer: User | None, post: PostAccess | None, post_id: int) -> PostAccess:
    """`post` (what decides who sees it), or a 404 when it does not exist for `viewer`."""
    if post is None or not may_see_post(viewer, published=post.published, author_id=post.author_id):
        raise NotFoundError(f"Post {post_id} not found")
    return post


def vanished(target_exists: bool, not_found: str) -> DomainError:
    """The answer to a write the database refused because a row it refers to was deleted
    meanwhile (a foreign key, `MissingReference`): 404 (`not_found`) when the target is gone,
    else it was the caller's own account (401)."""
    return AuthenticationError(CALLER_GONE) if target_exists else NotFoundError(not_found)
