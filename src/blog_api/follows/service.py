"""Follows: a user follows another (never themself); twice is still once."""

from __future__ import annotations

from blog_api.follows.repository import FollowRepository
from blog_api.kit.errors import InvalidInputError, NotFoundError, vanished
from blog_api.kit.listing import Page, Window
from blog_api.kit.repository import MissingReference
from blog_api.models import User
from blog_api.users.service import UserService
from blog_api.users.views import ProfileView, UserView


class FollowService:
    def __init__(self, follows: FollowRepository, users: UserService) -> None:
        self.follows = follows
        self.users = users

    async def follow(self, follower: User, user_id: int) -> ProfileView:
        """`follower` follows user `user_id`; that user's Profile (following: true)."""
        if user_id == follower.id:
            raise InvalidInputError("You cannot follow yourself", loc=("path", "user_id"))
        try:
            await self.follows.follow(follower.id, user_id)
        except MissingReference:
            exists = await self.users.exists(user_id)
            raise vanished(exists, f"User {user_id} not found") from None
        return await self.users.profile(follower, user_id)

    async def followers(self, user_id: int, window: Window) -> Page[UserView]:
        """Who follows the user, most recent follow first; 404 for an unknown user."""
        await self._exists(user_id)
        return await self.follows.followers(user_id, window)

    async def following(self, user_id: int, window: Window) -> Page[UserView]:
        """Whom the user follows, most recent follow first; 404 for an unknown user."""
        await self._exists(user_id)
        return await self.follows.following(user_id, window)

    async def _exists(self, user_id: int) -> None:
        if not await self.users.exists(user_id):
            raise NotFoundError(f"User {user_id} not found")

    async def unfollow(self, follower: User, user_id: int) -> ProfileView:
        """Stop following (not following is fine); the user's Profile (following: false)."""
        await self.follows.unfollow(follower.id, user_id)
        return await self.users.profile(follower, user_id)
