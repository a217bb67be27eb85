"""The value rules, and the schemas agreeing with them."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from blog_api.kit.rules import is_tag_name, is_username, normalize_tag, storable
from blog_api.users.schemas import Username

USERNAMES = ["ab", "abc", "a" * 32, "a" * 33, "Ann_B.c-d", "ann b", "anné", "ann\n", "", "x@y"]


@pytest.mark.parametrize("value", USERNAMES)
def test_the_username_schema_and_the_rule_agree(value: str) -> None:
    try:
        TypeAdapter(Username).validate_python(value)
        schema_accepts = True
    except ValidationError:
        schema_accepts = False
    assert schema_accepts is is_username(value)


def test_usernames() -> None:
    assert is_username("Ann_B.c-d")
    assert not is_username("ab")
    assert not is_username("a" * 33)
    assert not is_username("ann\n")


def test_tags() -> None:
    assert normalize_tag(" Python ") == "python"
    assert is_tag_name("a-b_c")
    assert not is_tag_name("Python")
    with pytest.raises(ValueError, match="Invalid tag"):
        normalize_tag("c++")


@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_unstorable_text_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="must"):
        storable(value)
