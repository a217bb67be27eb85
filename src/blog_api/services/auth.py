"""Logging in, and turning a bearer token back into a user."""

from __future__ import annotations

from blog_api.errors import AuthenticationError, PermissionDeniedError
from blog_api.models import User
from blog_api.repositories import UserRepository
from blog_api.security import AccessToken, PasswordHasher, TokenCodec

WRONG_CREDENTIALS = "Incorrect username or password"


class AuthService:
    def __init__(self, users: UserRepository, hasher: PasswordHasher, tokens: TokenCodec) -> None:
        self.users = users
        self.hasher = hasher
        self.tokens = tokens

    async def login(self, login: str, password: str) -> AccessToken:
        """`login` is a username or an email. The answer to a wrong password and to an unknown
        account is the same, and takes the same time."""
        if "@" in login:
            user = await self.users.get_by_email(login)
        else:
            user = await self.users.get_by_username(login)
        if user is None:
            await self.hasher.dummy_verify(password)
            raise AuthenticationError(WRONG_CREDENTIALS)
        ok, new_hash = await self.hasher.verify_and_update(password, user.hashed_password)
        if not ok:
            raise AuthenticationError(WRONG_CREDENTIALS)
        if not user.is_active:
            raise PermissionDeniedError("This account is inactive")
        if new_hash is not None:
            await self.users.try_set_password_hash(user, new_hash)
        return self.tokens.issue(user.id)

    async def user_for_token(self, token: str) -> User:
        user_id = self.tokens.subject(token)
        if user_id is None:
            raise AuthenticationError("The access token is invalid or expired")
        user = await self.users.get(user_id)
        if user is None:
            raise AuthenticationError("The access token's user no longer exists")
        if not user.is_active:
            raise PermissionDeniedError("This account is inactive")
        return user
