"""User shapes. Passwords and hashes never appear in any output model."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import email_validator
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    model_validator,
)

from blog_api.kit.rules import (
    IMAGE_MAX_LENGTH,
    IMAGE_URL_PATTERN,
    NO_NUL_PATTERN,
    PASSWORD_MAX_BYTES,
    PASSWORD_MIN_LENGTH,
    USERNAME_CHARACTERS,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    check_image_url,
    check_password,
    unicode_text,
)
from blog_api.kit.schemas import Text, not_nullable
from blog_api.roles import Role

Password = Annotated[
    str,
    Field(
        max_length=PASSWORD_MAX_BYTES,
        description="8 characters to 72 bytes in UTF-8",
        json_schema_extra={"minLength": PASSWORD_MIN_LENGTH, "pattern": NO_NUL_PATTERN},
    ),
    AfterValidator(check_password),
]
Username = Annotated[
    str,
    Field(
        min_length=USERNAME_MIN_LENGTH,
        max_length=USERNAME_MAX_LENGTH,
        pattern=USERNAME_CHARACTERS,
        description="3-32 letters, digits, '_', '.', '-'; unique ignoring case",
    ),
]
Bio = Annotated[Text, Field(max_length=500)]
ImageUrl = Annotated[
    str,
    Field(
        max_length=IMAGE_MAX_LENGTH,
        description=f"An avatar URL: http or https, at most {IMAGE_MAX_LENGTH} characters",
        examples=["https://example.com/avatar.png"],
        json_schema_extra={"pattern": IMAGE_URL_PATTERN},
    ),
    AfterValidator(check_image_url),
]


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# email-validator refuses a domain without a dot, a top-level domain that does not end in a
# letter, and special-use domains (.test, .localhost, ...): the schema says so.
_SPECIAL_USE = "|".join(_any_case(name) for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)
EMAIL_PATTERN = rf"^[^@]+@(?![^@]*\.(?:{_SPECIAL_USE})$)[^@]+\.[^@]*[A-Za-z]$"
Email = Annotated[
    EmailStr,
    Field(
        description="Stored and compared case-insensitively; no special-use domain "
        "(.test, .localhost, .invalid, ...)",
        json_schema_extra={"pattern": EMAIL_PATTERN},
    ),
]


class UserCreate(BaseModel):
    email: Email
    username: Username
    password: Password
    bio: Bio | None = None


class UserUpdate(BaseModel):
    """Only the fields sent are changed. `current_password` is required to change the password
    or the email, except for an admin changing another user."""

    # A password (or email) change of one's own account needs current_password (an admin
    # changing someone else does not: the schema asks for the stricter case).
    model_config = ConfigDict(
        json_schema_extra=not_nullable(
            "email",
            "username",
            "password",
            "current_password",
            "is_active",
            "role",
            dependentRequired={"password": ["current_password"], "email": ["current_password"]},
        )
    )

    email: Email | None = None
    username: Username | None = None
    password: Password | None = None
    bio: Bio | None = None
    image: ImageUrl | None = Field(None, description="An http(s) URL; null removes the image")
    # Checked, never stored: any text (a wrong one is a 403), but text it must be.
    current_password: Annotated[str, AfterValidator(unicode_text)] | None = Field(
        None, max_length=1024
    )
    is_active: StrictBool | None = Field(None, description="Admins only")
    role: Role | None = Field(None, description="Admins only (anyone else sending it gets a 403)")

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("email", "username", "password", "current_password", "is_active", "role"):
                if name in data and data[name] is None:
                    raise ValueError(f"{name} cannot be null")
        return data


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    bio: str | None
    image: str | None = Field(description="An avatar URL (http or https), or null")
    created_at: datetime


class Profile(UserPublic):
    """A user as anyone sees them, with their counts and whether the caller follows them."""

    posts_count: int = Field(description="Published posts")
    followers_count: int
    following_count: int
    following: bool = Field(
        description="Whether the caller follows this user (false when anonymous)"
    )
    role: Role = Field(description="What the user may do (contributor < author < editor < admin)")


class UserPrivate(UserPublic):
    email: str
    is_active: bool
    role: Role = Field(description="What the user may do (contributor < author < editor < admin)")
    is_superuser: bool = Field(description="True exactly when `role` is admin")
    updated_at: datetime
