"""Who may see a post, and so everything hanging off it (its comments and favorites).

The one place that decides it: a draft, and all that hangs off it, does not exist for anyone
but its author and superusers.
"""

from __future__ import annotations

from blog_api.kit.errors import NotFoundError
from blog_api.models import User
from blog_api.posts.views import PostAccess


def may_see_post(viewer: User | None, *, published: bool, author_id: int) -> bool:
    if published:
        return True
    return viewer is not None and (viewer.is_superuser or viewer.id == author_id)


def visible_post(viewer: User | None, post: PostAccess | None, post_id: int) -> PostAccess:
    """`post` (what decides who sees it), or a 404 when it does not exist for `viewer`."""
    if post is None or not may_see_post(viewer, published=post.published, author_id=post.author_id):
        raise NotFoundError(f"Post {post_id} not found")
    return post
