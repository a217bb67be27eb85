"""Services: the rules (who may do what, normalisation, hashing) over the repositories."""

from blog_api.services.auth import AuthService
from blog_api.services.posts import PostService
from blog_api.services.tags import TagService
from blog_api.services.users import UserService

__all__ = ["AuthService", "PostService", "TagService", "UserService"]
