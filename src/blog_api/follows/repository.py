"""Queries on follows. Their counts are kept by database triggers (see models.CounterDelta).

The followers and following lists read the other users' public columns (UserView), most
recent follow first, in one statement per page (the total, in page mode, from the counter).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from blog_api.counters.repository import counter_value
from blog_api.follows.sorting import FollowSort
from blog_api.kit.listing import INT, TIME, Listing, Page, Window, desc
from blog_api.kit.repository import BaseRepository
from blog_api.models import Counter, Follow, User
from blog_api.users.views import PUBLIC_COLUMNS, UserView, read_user

FOLLOWERS = Listing(
    "followers",
    {FollowSort.RECENT: (desc(Follow.created_at, TIME), desc(Follow.follower_id, INT))},
)
FOLLOWING = Listing(
    "following",
    {FollowSort.RECENT: (desc(Follow.created_at, TIME), desc(Follow.followed_id, INT))},
)


class FollowRepository(BaseRepository[Follow]):
    model = Follow

    async def follow(self, follower_id: int, followed_id: int) -> bool:
        """`follower_id` follows `followed_id`; a second time changes nothing (racing ones
        included). `MissingReference` when either user was deleted meanwhile."""
        return await self.insert_ignoring_duplicates(
            {"follower_id": follower_id, "followed_id": followed_id}
        )

    async def unfollow(self, follower_id: int, followed_id: int) -> None:
        await self.session.execute(
            delete(Follow).where(
                Follow.follower_id == follower_id, Follow.followed_id == followed_id
            )
        )

    async def followers(self, user_id: int, window: Window) -> Page[UserView]:
        """Who follows `user_id` most recent follow first."""
        stmt = (
            select(*PUBLIC_COLUMNS)
            .join(Follow, Follow.follower_id == User.id)
            .where(Follow.followed_id == user_id)
        )
        total = counter_value(Counter.USER_FOLLOWERS, user_id)
        page = await FOLLOWERS.fetch(
            self.session, stmt, FollowSort.RECENT, window, total=total, scope=user_id
        )
        return page.map(read_user)

    async def following(self, user_id: int, window: Window) -> Page[UserView]:
        """Whom `user_id` follows most recent follow first."""
        stmt = (
            select(*PUBLIC_COLUMNS)
            .join(Follow, Follow.followed_id == User.id)
            .where(Follow.follower_id == user_id)
        )
        total = counter_value(Counter.USER_FOLLOWING, user_id)
        page = await FOLLOWING.fetch(
            self.session, stmt, FollowSort.RECENT, window, total=total, scope=user_id
        )
        return page.map(read_user)
