"""User shapes. Passwords and hashes never appear in any output model."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from blog_api.schemas.common import Text, storable

# bcrypt only looks at the first 72 bytes of a secret: longer ones are refused, not truncated.
PASSWORD_MAX_BYTES = 72
PASSWORD_MIN_LENGTH = 8


def check_password(value: str) -> str:
    storable(value)  # bcrypt cannot take a NUL either
    if len(value) < PASSWORD_MIN_LENGTH:
        raise ValueError(f"Password must have at least {PASSWORD_MIN_LENGTH} characters")
    if len(value.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise ValueError(f"Password must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8")
    return value


Password = Annotated[
    str,
    Field(
        max_length=PASSWORD_MAX_BYTES,
        description="8 characters to 72 bytes in UTF-8",
        json_schema_extra={"minLength": PASSWORD_MIN_LENGTH},
    ),
    AfterValidator(check_password),
]
USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,32}$"


def is_username(value: str) -> bool:
    return re.fullmatch(USERNAME_PATTERN, value) is not None


Username = Annotated[
    str,
    Field(
        min_length=3,
        max_length=32,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="3-32 letters, digits, '_', '.', '-'; unique ignoring case",
    ),
]
Bio = Annotated[Text, Field(max_length=500)]


class UserCreate(BaseModel):
    email: EmailStr = Field(description="Stored and compared case-insensitively")
    username: Username
    password: Password
    bio: Bio | None = None


class UserUpdate(BaseModel):
    """Only the fields sent are changed. `current_password` is required to change the password
    or the email, except for a superuser changing another user."""

    email: EmailStr | None = None
    username: Username | None = None
    password: Password | None = None
    bio: Bio | None = None
    current_password: str | None = Field(None, max_length=1024)  # checked, never stored
    is_active: bool | None = Field(None, description="Superusers only")

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("email", "username", "password", "is_active"):
                if name in data and data[name] is None:
                    raise ValueError(f"{name} cannot be null")
        return data


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    bio: str | None
    created_at: datetime


class UserPrivate(UserPublic):
    email: str
    is_active: bool
    is_superuser: bool
    updated_at: datetime
