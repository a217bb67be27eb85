from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from blog_api.api.deps import AuthServiceDep
from blog_api.api.problems import problem_responses
from blog_api.schemas.auth import Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=Token,
    summary="Log in with a username or an email and a password",
    responses=problem_responses(401, 403, 422),
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], auth: AuthServiceDep
) -> Token:
    token = await auth.login(form.username, form.password)
    return Token(access_token=token.token, expires_in=token.expires_in)
