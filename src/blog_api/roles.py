"""The roles a user has, in rising order of power (API.md "Roles (v3)").

A module of its own, on the standard library alone, because both the settings (`DEFAULT_ROLE`)
and the models (the `users.role` column) read it, and the models import the settings' module
through the engine. What each role may do is decided in one place: `blog_api/users/policy.py`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Each role may do everything the ones before it may."""

    CONTRIBUTOR = "contributor"  # writes and edits their own drafts
    AUTHOR = "author"  # also publishes, and edits their own posts once published
    EDITOR = "editor"  # also edits, publishes, unpublishes and deletes anyone's posts
    ADMIN = "admin"  # everything, plus users and roles

    def at_least(self, other: Role) -> bool:
        """Whether this role has every power of `other` (a plain `>=` would compare names)."""
        return _RANK[self] >= _RANK[other]


_RANK = {role: rank for rank, role in enumerate(Role)}
# The longest role name: the width of the `users.role` column.
ROLE_MAX_LENGTH = 16
