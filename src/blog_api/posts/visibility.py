"""Who may see a post, and so everything hanging off it (its comments and favorites).

The one place that decides it for the services, by the roles' policy
(blog_api/users/policy.py): a draft, and all that hangs off it, does not exist for anyone but
its author and those who may see every draft (editors and admins).
"""

from __future__ import annotations

from blog_api.kit.errors import NotFoundError
from blog_api.models import User
from blog_api.posts.views import PostAccess
from blog_api.users.policy import may_see_post

__all__ = ["may_see_post", "visible_post"]


def visible_post(viewer: User | None, post: PostAccess | None, post_id: int) -> PostAccess:
    """`post` (what decides who sees it), or a 404 when it does not exist for `viewer`."""
    if post is None or not may_see_post(viewer, published=post.published, author_id=post.author_id):
        raise NotFoundError(f"Post {post_id} not found")
    return post
