"""Schemathesis hooks (SCHEMATHESIS_HOOKS=fuzz.hooks).

Every request is authenticated as a live account of the worker thread sending it. The fuzzer
logs out, changes passwords and deletes accounts as it goes; when the token in use stops
working, a new account is registered and logged in. One account per worker keeps one worker's
`DELETE /users/me` or password change from pulling the account from under another.

FUZZ_FACE says which face is fuzzed: `native` (`Authorization: Bearer <jwt>`, accounts through
/api/v1) or `realworld` (`Authorization: Token <jwt>`, accounts through /api/users).
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

import httpx
import schemathesis

PASSWORD = "fuzzing password"
PASSWORD_MAX_BYTES = 72  # blog_api.kit.rules.PASSWORD_MAX_BYTES; the fuzzer does not import the app


@schemathesis.auth(refresh_interval=None)
class LiveAccount:
    def __init__(self) -> None:
        self._base = os.environ["FUZZ_BASE_URL"]
        self._realworld = os.environ.get("FUZZ_FACE", "native") == "realworld"
        self._scheme = "Token" if self._realworld else "Bearer"
        self._tokens = threading.local()

    def _alive(self, client: httpx.Client, token: str) -> bool:
        me = "/api/user" if self._realworld else "/api/v1/users/me"
        answer = client.get(me, headers={"Authorization": f"{self._scheme} {token}"})
        return answer.status_code == 200

    def _new_account(self, client: httpx.Client) -> str:
        name = f"fz{uuid.uuid4().hex[:20]}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        token: str
        if self._realworld:
            answer = client.post("/api/users", json={"user": body})
            answer.raise_for_status()
            token = answer.json()["user"]["token"]
            return token
        client.post("/api/v1/users", json=body).raise_for_status()
        answer = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        answer.raise_for_status()
        token = answer.json()["access_token"]
        return token

    def get(self, case: Any, context: Any) -> str:
        token: str | None = getattr(self._tokens, "token", None)
        with httpx.Client(base_url=self._base, timeout=10) as client:
            if token is None or not self._alive(client, token):
                token = self._new_account(client)
        self._tokens.token = token
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"{self._scheme} {data}"}


def _fit_bytes(value: str, limit: int) -> str:
    """`value` cut to `limit` bytes from the end, keeping its first character that shows
    something (the RealWorld face refuses a password with nothing visible in it)."""
    chars = list(value)
    shown = next((i for i, c in enumerate(chars) if c.isprintable() and not c.isspace()), None)
    while len("".join(chars).encode("utf-8")) > limit:
        last = len(chars) - 1
        del chars[last - 1 if last == shown else last]
        if shown is not None and shown > len(chars) - 1:
            shown = len(chars) - 1
    return "".join(chars)


def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """A password is 8 characters to 72 bytes in UTF-8 (bcrypt reads no more). JSON Schema
    counts characters, not bytes, so the schema says `maxLength: 72` and the description says
    the rest; a schema-valid password of 72 characters can still be too many bytes. Such a
    password is cut to 72 bytes here (still at least 18 characters), so that "schema-valid
    data is accepted" keeps judging everything else. Passwords the schema itself refuses
    (longer than 72 characters, shorter than 8) are left as they are. On the RealWorld face the
    password is inside `user`."""
    body = case.body
    if not isinstance(body, dict):
        return
    for fields in (body, body.get("user")):
        if not isinstance(fields, dict):
            continue
        value = fields.get("password")
        if isinstance(value, str) and len(value) <= PASSWORD_MAX_BYTES:
            fields["password"] = _fit_bytes(value, PASSWORD_MAX_BYTES)


schemathesis.hook(before_call)
