"""What reads of users select and answer: a public user, a profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, false

from blog_api.counters.repository import counter_value
from blog_api.kit.views import row_reader
from blog_api.models import Counter, Follow, User
from blog_api.roles import Role


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as anyone sees them (UserPublic): of a list, or the author of a post or a
    comment."""

    id: int
    username: str
    bio: str | None
    image: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProfileView(UserView):
    """A user with their counts and whether the viewer follows them (Profile)."""

    posts_count: int
    followers_count: int
    following_count: int
    following: bool
    role: Role


# UserView's columns, in its order.
PUBLIC_COLUMNS = (User.id, User.username, User.bio, User.image, User.created_at)
read_user = row_reader(UserView, PUBLIC_COLUMNS)


def user_view(user: User) -> UserView:
    """The public part of a loaded user (no query)."""
    return UserView(user.id, user.username, user.bio, user.image, user.created_at)


def profile_columns(viewer_id: int | ColumnElement[int] | None) -> list[ColumnElement[Any]]:
    """ProfileView's columns beyond UserView's: the counts, whether the viewer (an id, or a
    bind parameter) follows, and the user's role."""
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
        User.role.label("role"),
    ]


read_profile = row_reader(ProfileView, [*PUBLIC_COLUMNS, *profile_columns(None)])
