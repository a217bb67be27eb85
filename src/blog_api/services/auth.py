"""Logging in, and turning a bearer token back into a user.

Authentication works in short transactions of its own, never across a bcrypt: it reads what
it needs, gives the connection back, and only then spends a quarter of a second hashing. A
burst of logins thus never holds connections from the pool, nor SQLite's write lock, while
it hashes. The user it returns is a snapshot, detached from any session.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from blog_api.db import Access
from blog_api.errors import AuthenticationError, PermissionDeniedError
from blog_api.models import User
from blog_api.repositories import UserRepository
from blog_api.security import AccessToken, PasswordHasher, TokenCodec

WRONG_CREDENTIALS = "Incorrect username or password"
# Longer than any email or username can be: such a login names no account.
MAX_LOGIN_LENGTH = 320

# Opens a transaction of the given kind and hands out a UserRepository on it.
UserStore = Callable[[Access], AbstractAsyncContextManager[UserRepository]]


class AuthService:
    def __init__(self, open_users: UserStore, hasher: PasswordHasher, tokens: TokenCodec) -> None:
        self.open_users = open_users
        self.hasher = hasher
        self.tokens = tokens

    async def login(self, login: str, password: str) -> AccessToken:
        """`login` is a username or an email. The answer to a wrong password and to an unknown
        account is the same, and takes the same time."""
        user = await self._find(login)
        if user is None:
            await self.hasher.dummy_verify(password)
            raise AuthenticationError(WRONG_CREDENTIALS)
        ok, new_hash = await self.hasher.verify_and_update(password, user.hashed_password)
        if not ok:
            raise AuthenticationError(WRONG_CREDENTIALS)
        if not user.is_active:
            raise PermissionDeniedError("This account is inactive")
        if new_hash is not None:
            async with self.open_users(Access.WRITE) as users:
                await users.replace_password_hash(user.id, user.hashed_password, new_hash)
        return self.tokens.issue(user.id)

    async def user_for_token(self, token: str) -> User:
        claims = self.tokens.read(token)
        if claims is None:
            raise AuthenticationError("The access token is invalid or expired")
        async with self.open_users(Access.READ) as users:
            user = await users.get(claims.user_id)
        if user is None:
            raise AuthenticationError("The access token's user no longer exists")
        if claims.issued_at < int(user.password_changed_at.timestamp()):
            raise AuthenticationError("The access token predates the last password change")
        if not user.is_active:
            raise PermissionDeniedError("This account is inactive")
        return user

    async def _find(self, login: str) -> User | None:
        if len(login) > MAX_LOGIN_LENGTH or "\x00" in login:
            return None
        async with self.open_users(Access.READ) as users:
            if "@" in login:
                return await users.get_by_email(login)
            return await users.get_by_username(login)
