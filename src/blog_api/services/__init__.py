"""Services: the rules (who may do what, normalisation, hashing) over the repositories."""

from blog_api.services.auth import AuthService
from blog_api.services.posts import ListWindow, PostPage, PostService
from blog_api.services.tags import TagService
from blog_api.services.users import UserService

__all__ = ["AuthService", "ListWindow", "PostPage", "PostService", "TagService", "UserService"]
