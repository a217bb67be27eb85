"""What reads of posts answer: typed, immutable read models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A read row: the columns of PostSummary (and Post with `content`), the author's UserPublic
# columns as author_*, the tag names as one text, the counts, and the viewer's flags.
PostRow = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PostAccess:
    """What decides who may see a post and what hangs off it."""

    published: bool
    author_id: int
