"""Comments: who may read, write, edit and delete them.

A post's comments are visible exactly when the post is (services.visibility). Anyone who sees a
post may comment on it; only a comment's author edits it; its author, the post's author, an
editor or an admin deletes it (blog_api/users/policy.py). A comment looked up under another
post does not exist (404).
"""

from __future__ import annotations

from blog_api.comments.repository import CommentRepository, written_comment
from blog_api.comments.schemas import CommentCreate, CommentUpdate
from blog_api.comments.views import CommentView
from blog_api.kit.db import utcnow
from blog_api.kit.errors import NotFoundError, PermissionDeniedError, vanished
from blog_api.kit.listing import Page, Window
from blog_api.kit.repository import MissingReference
from blog_api.models import Comment, User
from blog_api.posts.service import PostService
from blog_api.posts.views import PostAccess
from blog_api.posts.visibility import visible_post
from blog_api.users.policy import Action, may


class CommentService:
    def __init__(self, comments: CommentRepository, posts: PostService) -> None:
        self.comments = comments
        self.posts = posts

    async def list_page(
        self, viewer: User | None, post_id: int, window: Window
    ) -> Page[CommentView]:
        """A page of the post's comments, oldest first; 404 when `viewer` may not see the
        post."""
        page, post = await self.comments.page(post_id, window)
        # A page with comments says who may see the post; an empty one leaves it to ask.
        visible_post(viewer, post or await self.posts.access(post_id), post_id)
        return page

    async def list_all(self, viewer: User | None, post_id: int) -> list[CommentView]:
        """Every comment of the post, oldest first, uncapped (for clients that take them
        whole); 404 when the post is not visible to `viewer`."""
        await self._post(viewer, post_id)
        return await self.comments.all_in_post(post_id)

    async def get(self, viewer: User | None, post_id: int, comment_id: int) -> CommentView:
        await self._post(viewer, post_id)
        comment = await self.comments.get_item(post_id, comment_id)
        if comment is None:
            raise NotFoundError(f"Comment {comment_id} of post {post_id} not found")
        return comment

    async def create(self, author: User, post_id: int, data: CommentCreate) -> CommentView:
        """The new comment."""
        await self._post(author, post_id)
        try:
            comment = await self.comments.create(post_id, author.id, data.body)
        except MissingReference:
            exists = await self.posts.access(post_id) is not None
            raise vanished(exists, f"Post {post_id} not found") from None
        return written_comment(comment, author)

    async def update(
        self, actor: User, post_id: int, comment_id: int, data: CommentUpdate
    ) -> CommentView:
        """The edited comment."""
        await self._post(actor, post_id)
        comment = await self._comment(post_id, comment_id)
        if comment.author_id != actor.id:
            raise PermissionDeniedError("Only its author may edit a comment")
        if comment.body != data.body:
            await self.comments.update(comment, {"body": data.body, "updated_at": utcnow()})
        return written_comment(comment, actor)

    async def delete(self, actor: User, post_id: int, comment_id: int) -> None:
        post = await self._post(actor, post_id)
        comment = await self._comment(post_id, comment_id)
        if not may(actor, Action.DELETE_COMMENT, comment.author_id, post.author_id):
            raise PermissionDeniedError(
                "Only the comment's author, the post's author or an editor may delete it"
            )
        await self.comments.delete_by_id(comment.id)

    async def _post(self, viewer: User | None, post_id: int) -> PostAccess:
        return visible_post(viewer, await self.posts.access(post_id), post_id)

    async def _comment(self, post_id: int, comment_id: int) -> Comment:
        """The comment of that post, locked until the transaction ends; else a 404."""
        comment = await self.comments.get_in_post(post_id, comment_id, for_update=True)
        if comment is None:
            raise NotFoundError(f"Comment {comment_id} of post {post_id} not found")
        return comment
