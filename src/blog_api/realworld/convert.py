"""Translation between RealWorld's bodies and the native schemas and records.

The rules a value must follow are the native schemas': the face hands them what the client sent,
under their native names, and reports their verdict in RealWorld's shape. What RealWorld does
differently is named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from blog_api.kit.rules import has_visible_character
from blog_api.models import User
from blog_api.realworld.bodies import ProfileBody, UserBody
from blog_api.realworld.errors import BLANK, Errors, RealWorldError, from_validation_error

NativeT = TypeVar("NativeT", bound=BaseModel)


def timestamp(moment: datetime) -> str:
    """RealWorld timestamps: UTC, always with microseconds, so a value reads back as the same
    string it was first written as, and an edit always shows in `updatedAt`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def blank(value: object) -> bool:
    """Missing, null, or text with nothing visible in it (spaces, zero-width characters)."""
    return value is None or (isinstance(value, str) and not has_visible_character(value))


def refuse_blank(values: Mapping[str, object]) -> None:
    """RealWorld: a required text field that is missing, null, empty or only spaces is 422
    `<field>: ["can't be blank"]` (every such field at once)."""
    errors: Errors = {name: [BLANK] for name, value in values.items() if blank(value)}
    if errors:
        raise RealWorldError(422, errors)


def empty_is_null(value: str | None) -> str | None:
    """RealWorld: `bio` or `image` set to "" stores null (front-ends send "" for a cleared
    field)."""
    return None if value == "" else value


def native(schema: type[NativeT], values: Mapping[str, Any]) -> NativeT:
    """`values` (native names) through the native schema; its refusals as a RealWorld 422."""
    try:
        return schema.model_validate(dict(values))
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def user_body(user: User, token: str) -> UserBody:
    return {
        "email": user.email,
        "token": token,
        "username": user.username,
        "bio": user.bio,
        "image": user.image,
    }


class PublicUser(Protocol):
    """What a profile shows of a user: a `User`, or a read model (UserView, ProfileView)."""

    @property
    def username(self) -> str: ...
    @property
    def bio(self) -> str | None: ...
    @property
    def image(self) -> str | None: ...


def profile_body(user: PublicUser, *, following: bool) -> ProfileBody:
    return {"username": user.username, "bio": user.bio, "image": user.image, "following": following}
