"""Who may do what: the one policy every service asks (API.md "Roles (v3)").

Each action is one line of `RULES`: the least role that may do it to what is one's own, and
the least role that may do it to anyone's (None: nobody). Roles rise contributor < author <
editor < admin, each with every power of the ones below it. Services ask `may` (or a helper
below, for posts) and raise `PermissionDeniedError` or `NotFoundError` as the API says; no
router decides. A new rule (restoring revisions, uploading media) is one more `Action` and its
line in `RULES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, auto

from blog_api.models import User
from blog_api.roles import Role


class Action(StrEnum):
    SEE_DRAFT = auto()  # read a draft, and what hangs off it (comments, favorites)
    EDIT_DRAFT = auto()  # change a draft (it stays a draft)
    EDIT_PUBLISHED = auto()  # change a published post
    PUBLISH = auto()  # make a post public: create it published, or publish a draft
    UNPUBLISH = auto()  # turn a published post back into a draft
    DELETE_DRAFT = auto()
    DELETE_PUBLISHED = auto()
    DELETE_COMMENT = auto()  # "own": the comment's author, or the author of its post
    MANAGE_ACCOUNT = auto()  # change or delete an account
    SET_ACTIVE = auto()  # turn an account on or off
    SET_ROLE = auto()  # change a role
    RESTORE = auto()  # bring back a revision of a post


@dataclass(frozen=True, slots=True)
class Rule:
    own: Role | None  # the least role that may do it to what is one's own
    anyone: Role | None  # ... to anyone's


C, A, E, ADMIN = Role.CONTRIBUTOR, Role.AUTHOR, Role.EDITOR, Role.ADMIN

RULES: dict[Action, Rule] = {
    Action.SEE_DRAFT: Rule(own=C, anyone=E),
    Action.EDIT_DRAFT: Rule(own=C, anyone=E),
    Action.EDIT_PUBLISHED: Rule(own=A, anyone=E),
    Action.PUBLISH: Rule(own=A, anyone=E),
    Action.UNPUBLISH: Rule(own=A, anyone=E),
    Action.DELETE_DRAFT: Rule(own=C, anyone=E),
    Action.DELETE_PUBLISHED: Rule(own=A, anyone=E),
    Action.DELETE_COMMENT: Rule(own=C, anyone=E),
    Action.MANAGE_ACCOUNT: Rule(own=C, anyone=ADMIN),
    Action.SET_ACTIVE: Rule(own=ADMIN, anyone=ADMIN),
    Action.SET_ROLE: Rule(own=ADMIN, anyone=ADMIN),
    Action.RESTORE: Rule(own=A, anyone=E),
}


def may(actor: User | None, action: Action, *owners: int) -> bool:
    """Whether `actor` may do `action` to something that belongs to `owners` (user ids)."""
    if actor is None:
        return False
    rule = RULES[action]
    least = rule.own if actor.id in owners else rule.anyone
    return least is not None and Role(actor.role).at_least(least)


def may_see_post(viewer: User | None, *, published: bool, author_id: int) -> bool:
    """A published post is anyone's to read; a draft only theirs who may see drafts."""
    return published or may(viewer, Action.SEE_DRAFT, author_id)


def may_publish(actor: User, author_id: int) -> bool:
    """The one "may publish" decision: creating a post published, publishing a draft (and
    scheduling a post, which publishes it later)."""
    return may(actor, Action.PUBLISH, author_id)


def may_unpublish(actor: User, author_id: int) -> bool:
    return may(actor, Action.UNPUBLISH, author_id)


def may_edit_post(actor: User, *, published: bool, author_id: int) -> bool:
    """Whether `actor` may change the post as it is now (a contributor's right ends when it
    is published)."""
    return may(actor, Action.EDIT_PUBLISHED if published else Action.EDIT_DRAFT, author_id)


def may_delete_post(actor: User, *, published: bool, author_id: int) -> bool:
    return may(actor, Action.DELETE_PUBLISHED if published else Action.DELETE_DRAFT, author_id)
