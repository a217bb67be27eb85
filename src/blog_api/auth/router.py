"""Log in, refresh, log out. Token answers are never cached (RFC 6749, 5.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Cookie, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from blog_api.auth.deps import AuthServiceDep, CurrentUser
from blog_api.auth.schemas import RefreshRequest, TokenPair
from blog_api.auth.security import REFRESH_TOKEN_MAX_LENGTH
from blog_api.auth.service import SessionTokens
from blog_api.kit.deps import NO_STORE, RATE_LIMITED, client_address
from blog_api.kit.errors import AuthenticationError
from blog_api.kit.openapi import problem_responses
from blog_api.kit.routing import PathRouter

AUTH_PREFIX = "/auth"
REFRESH_COOKIE = "refresh_token"
# Where the browser sends the refresh cookie: the auth endpoints, and nothing else.
REFRESH_COOKIE_PATH = "/api/v1" + AUTH_PREFIX

# Token answers are never cached (RFC 6749, 5.1).
router = PathRouter(prefix=AUTH_PREFIX, tags=["auth"], dependencies=[NO_STORE])

CookieMode = Annotated[
    bool,
    Query(
        description="Set the refresh token as an HttpOnly, Secure, SameSite=Strict cookie "
        f"scoped to {REFRESH_COOKIE_PATH} instead of returning it in the body"
    ),
]
RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=REFRESH_COOKIE,
        min_length=1,
        max_length=REFRESH_TOKEN_MAX_LENGTH,
        description="The refresh cookie set by `?cookie=true`; a body token wins over it",
    ),
]
RefreshBody = Annotated[RefreshRequest | None, Body()]


def _answer(tokens: SessionTokens, response: Response, *, cookie: bool) -> TokenPair:
    if cookie:
        response.set_cookie(
            REFRESH_COOKIE,
            tokens.refresh_token,
            max_age=tokens.refresh_expires_in,
            path=REFRESH_COOKIE_PATH,
            secure=True,
            httponly=True,
            samesite="strict",
        )
    return TokenPair(
        access_token=tokens.access.token,
        expires_in=tokens.access.expires_in,
        refresh_token=None if cookie else tokens.refresh_token,
        refresh_expires_in=tokens.refresh_expires_in,
    )


def _forget_cookie(response: Response) -> None:
    response.delete_cookie(
        REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=True, httponly=True, samesite="strict"
    )


def _sent_token(body: RefreshRequest | None, cookie: str | None) -> tuple[str | None, bool]:
    """The refresh token sent (in the body, else in the cookie), and whether it came in the
    cookie; None when there is neither."""
    if body is not None and body.refresh_token is not None:
        return body.refresh_token, False
    return cookie, cookie is not None


@router.post(
    "/token",
    response_model=TokenPair,
    dependencies=[RATE_LIMITED],
    summary="Log in with a username or an email and a password",
    responses=problem_responses(401, 403, 422, 429),
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    auth: AuthServiceDep,
    request: Request,
    response: Response,
    cookie: CookieMode = False,
) -> TokenPair:
    tokens = await auth.start_session(form.username, form.password, client_address(request))
    return _answer(tokens, response, cookie=cookie)


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Use a refresh token up for a new pair (a token used twice ends its sessions)",
    responses=problem_responses(401, 403, 422),
)
async def refresh(
    auth: AuthServiceDep,
    response: Response,
    data: RefreshBody = None,
    refresh_cookie: RefreshCookie = None,
) -> TokenPair:
    token, from_cookie = _sent_token(data, refresh_cookie)
    if token is None:
        raise AuthenticationError("No refresh token: send it in the body or in the cookie")
    tokens = await auth.refresh(token)
    return _answer(tokens, response, cookie=from_cookie)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the session of a refresh token, its access tokens included",
    responses=problem_responses(422),
)
async def logout(
    auth: AuthServiceDep,
    response: Response,
    data: RefreshBody = None,
    refresh_cookie: RefreshCookie = None,
) -> None:
    token, _ = _sent_token(data, refresh_cookie)
    if token is not None:  # without one there is no session to end: nothing to do
        await auth.logout(token)
    _forget_cookie(response)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session of the caller, access tokens included",
    responses=problem_responses(401, 403),
)
async def logout_all(me: CurrentUser, auth: AuthServiceDep, response: Response) -> None:
    await auth.logout_everywhere(me)
    _forget_cookie(response)
