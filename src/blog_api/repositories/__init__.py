"""Repositories: queries only. They flush, never commit, and never decide permissions."""

from blog_api.repositories.base import BaseRepository, MissingReference, UniqueViolation
from blog_api.repositories.comments import CommentRepository
from blog_api.repositories.favorites import FavoriteRepository
from blog_api.repositories.follows import FollowRepository
from blog_api.repositories.posts import PostFilter, PostRepository
from blog_api.repositories.sessions import AuthSessionRepository, RefreshTokenRepository
from blog_api.repositories.tags import TagRepository
from blog_api.repositories.users import UserRepository

__all__ = [
    "AuthSessionRepository",
    "BaseRepository",
    "CommentRepository",
    "FavoriteRepository",
    "FollowRepository",
    "MissingReference",
    "PostFilter",
    "PostRepository",
    "RefreshTokenRepository",
    "TagRepository",
    "UniqueViolation",
    "UserRepository",
]
