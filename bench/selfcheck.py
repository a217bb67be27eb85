"""Before measuring: the app and the reference must give the same answers.

Each request goes to both servers; the JSON answers must be equal field by field, key order
included. Nothing is ignored but what cannot be the same (the token of a login; the id, slug
and timestamps of a newly created post).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.servers import Server

Ordered = Any  # JSON with every object as a list of (key, value) pairs, so order counts


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def ordered(self, ignore: Iterable[str] = ()) -> Ordered:
        """The JSON with objects as lists of pairs; `ignore` drops top-level keys."""
        value = json.loads(self.body, object_pairs_hook=list)
        skip = frozenset(ignore)
        if skip and isinstance(value, list):
            value = [pair for pair in value if pair[0] not in skip]
        return value


def call(
    server: Server,
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    body: Any = None,
    token: str | None = None,
) -> Answer:
    headers: dict[str, str] = {}
    data: bytes | None = None
    if form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        server.base_url + path, data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            return Answer(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers.items()), error.read())


def first_difference(a: Ordered, b: Ordered, where: str = "$") -> str | None:
    """Where two ordered JSON values first differ, or None when they are equal."""
    if isinstance(a, list) and isinstance(b, list):
        pairs_a = all(isinstance(x, tuple) for x in a)
        pairs_b = all(isinstance(x, tuple) for x in b)
        if pairs_a and pairs_b and (a or b):  # both objects
            keys_a, keys_b = [k for k, _ in a], [k for k, _ in b]
            if keys_a != keys_b:
                return f"{where}: keys {keys_a} != {keys_b}"
            for (key, va), (_, vb) in zip(a, b, strict=True):
                found = first_difference(va, vb, f"{where}.{key}")
                if found:
                    return found
            return None
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
        for i, (va, vb) in enumerate(zip(a, b, strict=True)):
            found = first_difference(va, vb, f"{where}[{i}]")
            if found:
                return found
        return None
    if a != b or type(a) is not type(b):
        return f"{where}: {a!r:.120} != {b!r:.120}"
    return None


@dataclass(slots=True)
class SelfCheck:
    app: Server
    reference: Server
    checked: int = 0
    failures: list[str] = field(default_factory=list)

    def same(self, label: str, app: Answer, ref: Answer, ignore: Iterable[str] = ()) -> None:
        self.checked += 1
        if app.status != ref.status:
            self.failures.append(f"{label}: status {app.status} != {ref.status}: {app.body!r:.300}")
            return
        ignored = tuple(ignore)
        found = first_difference(app.ordered(ignored), ref.ordered(ignored))
        if found:
            self.failures.append(f"{label}: app != reference at {found}")

    def get(self, path: str, tokens: tuple[str, str] | None = None) -> tuple[Answer, Answer]:
        """GET `path` from both, anonymously or with each server's own token."""
        app_token, ref_token = tokens or (None, None)
        app = call(self.app, "GET", path, token=app_token)
        ref = call(self.reference, "GET", path, token=ref_token)
        self.same(f"GET {path}", app, ref)
        return app, ref

    def walk(self, path: str, pages: int, tokens: tuple[str, str] | None = None) -> None:
        """Follow each server's own next_cursor for a few pages."""
        app_token, ref_token = tokens or (None, None)
        app, ref = self.get(path, tokens)
        joiner = "&" if "?" in path else "?"
        for _ in range(pages):
            app_next, ref_next = app.json()["next_cursor"], ref.json()["next_cursor"]
            if app_next is None or ref_next is None:
                return
            app = call(
                self.app,
                "GET",
                f"{path}{joiner}{urlencode({'cursor': app_next})}",
                token=app_token,
            )
            ref = call(
                self.reference,
                "GET",
                f"{path}{joiner}{urlencode({'cursor': ref_next})}",
                token=ref_token,
            )
            self.same(f"GET {path} walked by cursor", app, ref)

    def login(self, username: str, password: str) -> tuple[str, str]:
        form = {"username": username, "password": password}
        app = call(self.app, "POST", "/api/v1/auth/token", form=form)
        ref = call(self.reference, "POST", "/api/v1/auth/token", form=form)
        self.same("POST /api/v1/auth/token", app, ref, ignore=["access_token", "refresh_token"])
        if app.status != 200 or ref.status != 200:
            raise SystemExit(f"self-check: login failed: {app.body!r:.300} {ref.body!r:.300}")
        return app.json()["access_token"], ref.json()["access_token"]

    def create(self, app_token: str, ref_token: str, tags: list[str]) -> None:
        post = {
            "title": "  Self-check: a draft  ",
            "content": "Written by the bench's self-check. " * 10,
            "published": False,
            "tags": [tags[0].upper(), f" {tags[1]} ", tags[2], tags[0]],
        }
        app = call(self.app, "POST", "/api/v1/posts", body=post, token=app_token)
        ref = call(self.reference, "POST", "/api/v1/posts", body=post, token=ref_token)
        self.same(
            "POST /api/v1/posts",
            app,
            ref,
            ignore=["id", "slug", "published_at", "created_at", "updated_at"],
        )
        for answer in (app, ref):
            if answer.status == 201:
                expected = f"/api/v1/posts/{answer.json()['id']}"
                if not answer.headers.get("location", "").endswith(expected):
                    self.failures.append(f"POST /api/v1/posts: Location is not {expected}")

    def patch(self, app_token: str, ref_token: str, post_id: int) -> None:
        """PATCH one post on both (the same change, so the same post results), then read it."""
        path = f"/api/v1/posts/{post_id}"
        body = {"title": "Self-check: an edit", "content": "Edited by the bench's *self-check*."}
        app = call(self.app, "PATCH", path, body=body, token=app_token)
        ref = call(self.reference, "PATCH", path, body=body, token=ref_token)
        self.same(f"PATCH {path}", app, ref, ignore=["updated_at"])
        self.get(path)

    def raise_on_failure(self) -> None:
        if self.failures:
            listed = "\n  ".join(self.failures[:20])
            raise SystemExit(
                f"SELF-CHECK FAILED: the reference does not answer as the app does "
                f"({len(self.failures)} of {self.checked} checks):\n  {listed}"
            )
