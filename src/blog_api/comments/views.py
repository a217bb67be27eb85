"""What reads of comments answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from blog_api.users.views import UserView


@dataclass(frozen=True, slots=True)
class CommentView:
    """A comment with its author (Comment)."""

    id: int
    post_id: int
    body: str
    created_at: datetime
    updated_at: datetime
    author: UserView
