"""Favorites: a user marks a post they can see; twice is still once."""

from __future__ import annotations

from blog_api.favorites.repository import FavoriteRepository
from blog_api.kit.errors import vanished
from blog_api.kit.repository import MissingReference
from blog_api.models import User
from blog_api.posts.service import PostService
from blog_api.posts.views import PostView
from blog_api.posts.visibility import visible_post


class FavoriteService:
    def __init__(self, favorites: FavoriteRepository, posts: PostService) -> None:
        self.favorites = favorites
        self.posts = posts

    async def favorite(self, user: User, post_id: int) -> PostView:
        """Favorite the post; the post as `user` now sees it (favorited: true)."""
        visible_post(user, await self.posts.access(post_id), post_id)
        try:
            await self.favorites.favorite(user.id, post_id)
        except MissingReference:
            exists = await self.posts.access(post_id) is not None
            raise vanished(exists, f"Post {post_id} not found") from None
        return await self.posts.get(user, post_id)

    async def unfavorite(self, user: User, post_id: int) -> PostView:
        """Take the favorite back (nothing to take back is fine); the post (favorited: false)."""
        visible_post(user, await self.posts.access(post_id), post_id)
        await self.favorites.unfavorite(user.id, post_id)
        return await self.posts.get(user, post_id)
