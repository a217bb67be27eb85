"""`make fuzz` covers both faces: the faces it runs, how it authenticates on each, and the
passwords it fits to bcrypt's 72 bytes without making them blank. (It needs the `fuzz` extra,
which `make fuzz` installs.)"""

from __future__ import annotations

import importlib
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("schemathesis")


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """fuzz.hooks, whose auth class schemathesis builds at import (it reads FUZZ_BASE_URL)."""
    monkeypatch.setenv("FUZZ_BASE_URL", "http://127.0.0.1:1")
    return importlib.import_module("fuzz.hooks")


def test_both_faces_by_default_and_one_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    harness = importlib.import_module("fuzz.__main__")
    monkeypatch.delenv("FUZZ_FACE", raising=False)
    assert harness.faces() == ["native", "realworld"]
    documents = [harness.FACES[face][0] for face in harness.faces()]
    assert documents == ["/openapi.json", "/api/openapi.json"]
    monkeypatch.setenv("FUZZ_FACE", "RealWorld")
    assert harness.faces() == ["realworld"]
    monkeypatch.setenv("FUZZ_FACE", "graphql")
    with pytest.raises(SystemExit):
        harness.faces()


@pytest.mark.parametrize(("face", "scheme"), [("native", "Bearer"), ("realworld", "Token")])
def test_each_face_gets_its_own_authorization_scheme(
    monkeypatch: pytest.MonkeyPatch, hooks: ModuleType, face: str, scheme: str
) -> None:
    monkeypatch.setenv("FUZZ_FACE", face)
    case = SimpleNamespace(headers={"X-Other": "1"})
    hooks.LiveAccount().set(case, "jwt", None)
    assert case.headers == {"X-Other": "1", "Authorization": f"{scheme} jwt"}


@pytest.mark.parametrize(
    "password", ["\u3000" * 60 + "x" + "\u3000" * 11, "\u00e9" * 72, "\U0001f600" * 72, "x" * 72]
)
def test_a_password_is_cut_to_72_bytes_and_keeps_something_visible(
    hooks: ModuleType, password: str
) -> None:
    native: dict[str, Any] = {"password": password}
    realworld: dict[str, Any] = {"user": {"password": password}}
    for body, fields in ((native, native), (realworld, realworld["user"])):
        hooks.before_call(None, SimpleNamespace(body=body), {})
        sent = fields["password"]
        assert len(sent.encode("utf-8")) <= 72
        assert len(sent) >= 8
        assert any(c.isprintable() and not c.isspace() for c in sent)
