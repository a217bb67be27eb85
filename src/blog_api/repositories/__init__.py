"""Repositories: queries only. They flush, never commit, and never decide permissions."""

from blog_api.repositories.base import BaseRepository, MissingReference, UniqueViolation
from blog_api.repositories.posts import PostFilter, PostRepository, PostSort
from blog_api.repositories.tags import TagRepository
from blog_api.repositories.users import UserRepository

__all__ = [
    "BaseRepository",
    "MissingReference",
    "PostFilter",
    "PostRepository",
    "PostSort",
    "TagRepository",
    "UniqueViolation",
    "UserRepository",
]
