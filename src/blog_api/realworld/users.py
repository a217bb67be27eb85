"""RealWorld: registration, login, the current user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request, status

from blog_api.auth.deps import AuthServiceDep, SessionServiceDep
from blog_api.kit.deps import NO_STORE, RATE_LIMITED, client_address
from blog_api.kit.errors import AuthenticationError, ConflictError
from blog_api.kit.routing import PathRouter
from blog_api.realworld.bodies import UserResponseBody
from blog_api.realworld.convert import empty_is_null, native, refuse_blank, user_body
from blog_api.realworld.deps import CurrentCaller
from blog_api.realworld.errors import INVALID, TAKEN, RealWorldError, RealWorldRoute, error
from blog_api.realworld.openapi import responses
from blog_api.realworld.schemas import (
    LoginUserRequest,
    NewUserRequest,
    UpdateUserRequest,
    UserResponse,
)
from blog_api.users.deps import UserServiceDep
from blog_api.users.schemas import UserCreate, UserUpdate

# Every answer here carries a token and the user's email: never kept by a cache.
router = PathRouter(
    route_class=RealWorldRoute, tags=["User and Authentication"], dependencies=[NO_STORE]
)

# RealWorld has no current-password field: an email or password change is accepted only with a
# token from a login (or registration, or an earlier change) this recent (API.md).
RECENT_LOGIN = timedelta(minutes=10)
REQUIRED_ON_UPDATE = ("email", "username", "password")


@router.post(
    "/users/login",
    operation_id="Login",
    dependencies=[RATE_LIMITED],
    summary="Existing user login",
    description="Login for existing user",
    response_model=UserResponse,
    responses=responses(401, 422),
)
async def login(body: LoginUserRequest, auth: AuthServiceDep, request: Request) -> UserResponseBody:
    """The same limits as /api/v1's login (the service counts them)."""
    credentials = body.user
    refuse_blank({"email": credentials.email, "password": credentials.password})
    try:
        signed_in = await auth.login(
            credentials.email, credentials.password, client_address(request)
        )
    except AuthenticationError:
        raise error(401, "credentials", INVALID) from None
    return {"user": user_body(signed_in.user, signed_in.access.token)}


@router.post(
    "/users",
    operation_id="CreateUser",
    dependencies=[RATE_LIMITED],
    description="Register a new user",
    status_code=status.HTTP_201_CREATED,
    response_model=UserResponse,
    responses=responses(409, 422),
)
async def register(
    body: NewUserRequest,
    users: UserServiceDep,
    sessions: SessionServiceDep,
    request: Request,
) -> UserResponseBody:
    """The same limit as /api/v1's registration (per client address). The new user is signed
    in: the answer's token starts a session, in the same transaction as the account."""
    new = body.user
    refuse_blank({"username": new.username, "email": new.email, "password": new.password})
    data = native(
        UserCreate, {"email": new.email, "username": new.username, "password": new.password}
    )
    user = await users.register(data, address=client_address(request))
    return {"user": user_body(user, (await sessions.sign_in(user.id)).token)}


@router.get(
    "/user",
    operation_id="GetCurrentUser",
    summary="Get current user",
    description="Gets the currently logged-in user",
    response_model=UserResponse,
    responses=responses(401, 422),
)
async def current_user(caller: CurrentCaller) -> UserResponseBody:
    return {"user": user_body(caller.user, caller.token)}


@router.put(
    "/user",
    operation_id="UpdateCurrentUser",
    dependencies=[RATE_LIMITED],
    summary="Update current user",
    description="Updated user information for current user",
    response_model=UserResponse,
    responses=responses(401, 422),
)
async def update_current_user(
    body: UpdateUserRequest,
    caller: CurrentCaller,
    users: UserServiceDep,
    sessions: SessionServiceDep,
) -> UserResponseBody:
    """A partial update. The answer carries a fresh token of the caller's session, which goes
    on after a password change (the user's other sessions end). A taken email or username is
    a 422 here (the spec lists no 409 for this operation)."""
    update = body.user
    sent = update.model_dump(include=update.model_fields_set)
    refuse_blank({name: sent[name] for name in REQUIRED_ON_UPDATE if name in sent})
    for name in ("bio", "image"):
        if name in sent:
            sent[name] = empty_is_null(sent[name])
    me = caller.user
    changes_email = "email" in sent and sent["email"].strip().lower() != me.email
    if ("password" in sent or changes_email) and not _recent(caller.claims.authenticated_at):
        raise RealWorldError(
            401,
            {"token": ["is too old to change the email or password: log in again"]},
            headers={"WWW-Authenticate": "Token"},
        )
    data = native(UserUpdate, sent)
    try:
        user = await users.update(
            me, me.id, data, reauthenticated=True, caller_session=caller.claims.session_id
        )
    except ConflictError as exc:
        raise error(422, exc.field or "user", TAKEN if exc.field else exc.detail) from None
    return {"user": user_body(user, sessions.reissue(caller.claims).token)}


def _recent(authenticated_at: float) -> bool:
    """Whether the session's sign-in with the password is recent (its `auth_time`: a token
    handed out later by an update keeps it)."""
    return datetime.now(UTC).timestamp() - authenticated_at <= RECENT_LOGIN.total_seconds()
