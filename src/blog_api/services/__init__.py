"""Services: the rules (who may do what, normalisation, hashing) over the repositories."""

from blog_api.services.auth import AuthService
from blog_api.services.comments import CommentService
from blog_api.services.favorites import FavoriteService
from blog_api.services.follows import FollowService
from blog_api.services.posts import PostService
from blog_api.services.tags import TagService
from blog_api.services.users import UserService

__all__ = [
    "AuthService",
    "CommentService",
    "FavoriteService",
    "FollowService",
    "PostService",
    "TagService",
    "UserService",
]
