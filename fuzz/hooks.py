"""Schemathesis hooks (SCHEMATHESIS_HOOKS=fuzz.hooks).

Every request is authenticated as a live account of the worker thread sending it. The fuzzer
logs out, changes passwords and deletes accounts as it goes; when the token in use stops
working, a new account is registered and logged in. One account per worker keeps one worker's
`DELETE /users/me` or password change from pulling the account from under another.
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
        self._tokens = threading.local()

    def _alive(self, client: httpx.Client, token: str) -> bool:
        answer = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code == 200

    def _new_account(self, client: httpx.Client) -> str:
        name = f"fz{uuid.uuid4().hex[:20]}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        client.post("/api/v1/users", json=body).raise_for_status()
        answer = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token

    def get(self, case: Any, context: Any) -> str:
        token: str | None = getattr(self._tokens, "token", None)
        with httpx.Client(base_url=self._base, timeout=10) as client:
            if token is None or not self._alive(client, token):
                token = self._new_account(client)
        self._tokens.token = token
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _fit_bytes(value: str, limit: int) -> str:
    while len(value.encode("utf-8")) > limit:
        value = value[:-1]
    return value


def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """A password is 8 characters to 72 bytes in UTF-8 (bcrypt reads no more). JSON Schema
    counts characters, not bytes, so the schema says `maxLength: 72` and the description says
    the rest; a schema-valid password of 72 characters can still be too many bytes. Such a
    password is cut to 72 bytes here (still at least 18 characters), so that "schema-valid
    data is accepted" keeps judging everything else. Passwords the schema itself refuses
    (longer than 72 characters, shorter than 8) are left as they are."""
    body = case.body
    if not isinstance(body, dict):
        return
    value = body.get("password")
    if isinstance(value, str) and len(value) <= PASSWORD_MAX_BYTES:
        body["password"] = _fit_bytes(value, PASSWORD_MAX_BYTES)


schemathesis.hook(before_call)
