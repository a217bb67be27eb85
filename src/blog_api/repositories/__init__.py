"""Repositories: queries only. They flush, never commit, and never decide permissions."""

from blog_api.repositories.base import BaseRepository, UniqueViolation
from blog_api.repositories.users import UserRepository

__all__ = ["BaseRepository", "UniqueViolation", "UserRepository"]
