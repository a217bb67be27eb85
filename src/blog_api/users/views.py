"""What reads of users select: the columns of a public user and of a profile."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false

from blog_api.counters.repository import counter_value
from blog_api.models import Counter, Follow, User

# UserPublic's columns.
PUBLIC_COLUMNS = (User.id, User.username, User.bio, User.image, User.created_at)


def profile_columns(viewer_id: int | ColumnElement[int] | None) -> list[ColumnElement[Any]]:
    """Profile's columns beyond UserPublic's: the counts, and whether the viewer (an id, or a
    bind parameter) follows."""
    following: ColumnElement[bool] = (
        false()
        if viewer_id is None
        else exists().where(Follow.follower_id == viewer_id, Follow.followed_id == User.id)
    )
    return [
        counter_value(Counter.USER_POSTS, User.id).label("posts_count"),
        counter_value(Counter.USER_FOLLOWERS, User.id).label("followers_count"),
        counter_value(Counter.USER_FOLLOWING, User.id).label("following_count"),
        following.label("following"),
    ]
