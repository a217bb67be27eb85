from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from blog_api.auth.security import REFRESH_TOKEN_MAX_LENGTH


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires")


class TokenPair(Token):
    refresh_token: str | None = Field(
        description="Use it once at POST /auth/refresh for a new pair; null when it was set "
        "as the refresh cookie instead (`?cookie=true`)"
    )
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires")


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(
        None,
        min_length=1,
        max_length=REFRESH_TOKEN_MAX_LENGTH,
        description="Omit it to use the refresh cookie",
    )
