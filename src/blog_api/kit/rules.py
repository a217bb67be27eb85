"""The domain's value rules: what a username, a tag name, a password or a stored text may be.

Plain functions and constants with no dependency, below every layer: the HTTP schemas validate
input with them, and services use them to judge values that do not come through a schema
(query filters, cursors). Each rule is written here once.
"""

from __future__ import annotations

import re
import unicodedata

# --- Text any column may hold


def unicode_text(value: str) -> str:
    """Refuse lone UTF-16 surrogates (JSON's "\\ud800" allows them; UTF-8 does not): they are
    no text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def storable(value: str) -> str:
    """Refuse what no database column should hold: NUL characters (PostgreSQL cannot store
    them) and lone surrogates (`unicode_text`)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return unicode_text(value)


# --- Usernames: 3-32 ASCII letters, digits, '_', '.', '-'; unique ignoring case

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 32
USERNAME_CHARACTERS = r"^[A-Za-z0-9_.\-]+$"
_USERNAME_CHARACTERS = re.compile(USERNAME_CHARACTERS)


def is_username(value: str) -> bool:
    return (
        USERNAME_MIN_LENGTH <= len(value) <= USERNAME_MAX_LENGTH
        and _USERNAME_CHARACTERS.fullmatch(value) is not None
    )


# --- Passwords: bcrypt only looks at the first 72 bytes of a secret, so longer ones are
# refused, not truncated.

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_BYTES = 72


def hashable(secret: str) -> bool:
    """Whether bcrypt can take `secret` whole: valid Unicode, no NUL, at most 72 bytes."""
    try:
        storable(secret)
    except ValueError:
        return False
    return len(secret.encode("utf-8")) <= PASSWORD_MAX_BYTES


def check_password(value: str) -> str:
    storable(value)  # bcrypt cannot take a NUL either
    if len(value) < PASSWORD_MIN_LENGTH:
        raise ValueError(f"Password must have at least {PASSWORD_MIN_LENGTH} characters")
    if not hashable(value):
        raise ValueError(f"Password must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8")
    return value


# --- Tags: 1-32 lowercase ASCII letters, digits, '-' or '_'; at most MAX_TAGS on a post

MAX_TAGS = 10
_TAG = re.compile(r"[a-z0-9_-]{1,32}")


def is_tag_name(name: str) -> bool:
    return _TAG.fullmatch(name) is not None


# A tag as sent: a name in either case, with spaces, tabs or line breaks around it.
TAG_INPUT_PATTERN = "^[ \\t\\n\\r]*[A-Za-z0-9_-]{1,32}[ \\t\\n\\r]*$"
_TAG_INPUT = re.compile(TAG_INPUT_PATTERN)


def normalize_tag(raw: str) -> str:
    """' Python ' -> 'python'. Raises ValueError when `raw` is not a tag name (ASCII only,
    so that no other character lowercases into one, as the Kelvin sign does into 'k')."""
    name = raw.strip(" \t\n\r").lower()
    if _TAG_INPUT.fullmatch(raw) is None or not is_tag_name(name):
        raise ValueError(f"Invalid tag {raw!r}: use 1-32 letters, digits, '-' or '_' (ASCII)")
    return name


# --- Text shown on one line (titles): no control characters, no bidirectional overrides,
# and something visible. A title with a terminal escape, a right-to-left override that makes
# "txt.exe" read "exe.txt", or nothing but zero-width joiners fools the readers it is shown to.

# Embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern).
_BLANK_GRAPHEMES = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# What shows nothing: separators (spaces), controls, format characters (zero-width joiners
# and spaces, the BOM, bidi controls), and the blank graphemes.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs"})


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or char in _BLANK_GRAPHEMES


def check_line_text(value: str) -> str:
    """Refuse control characters (C0, DEL, C1: escape sequences, line breaks, tabs) and
    bidirectional embedding, override and isolate characters."""
    for char in value:
        if unicodedata.category(char) == "Cc":
            raise ValueError(f"must not contain control characters (U+{ord(char):04X})")
        if char in BIDI_CONTROLS:
            raise ValueError(
                f"must not contain bidirectional override characters (U+{ord(char):04X})"
            )
    return value


def has_visible_character(value: str) -> bool:
    """Whether `value` shows anything: one character that is not a space, a control or
    format character (zero-width ones, the BOM) or a blank filler."""
    return not all(_invisible(char) for char in value)


def _ranges(chars: list[int]) -> str:
    """A regex character-class body for code points, as ranges (`\\uXXXX-\\uYYYY`)."""
    parts, start, prev = [], None, None
    for cp in [*chars, -2]:
        if start is not None and cp == prev + 1:  # type: ignore[operator]
            prev = cp
            continue
        if start is not None:
            parts.append(f"\\u{start:04x}" + (f"-\\u{prev:04x}" if prev != start else ""))
        start = prev = cp
    return "".join(parts)


# The same rules as JSON Schema patterns, for the OpenAPI document (which cannot say
# "at least one visible character" otherwise). Basic Multilingual Plane only: a pattern
# with astral code points reads differently in ECMA and Python regexes; the functions
# above are the rule, the pattern its description.
_NOT_LINE = _ranges(
    [
        cp
        for cp in range(0x10000)
        if unicodedata.category(chr(cp)) == "Cc" or chr(cp) in BIDI_CONTROLS
    ]
)
_INVISIBLE_BMP = _ranges(
    [cp for cp in range(0x10000) if _invisible(chr(cp)) and not 0xD800 <= cp <= 0xDFFF]
)
TITLE_PATTERN = f"^[^{_NOT_LINE}]*[^{_INVISIBLE_BMP}][^{_NOT_LINE}]*$"
NO_NUL_PATTERN = "^[^\\u0000]*$"
# Something visible (has_visible_character), anywhere in the text: a pattern is searched for.
VISIBLE_PATTERN = f"[^{_INVISIBLE_BMP}]"
# Text with something visible in it and no NUL (storable).
VISIBLE_TEXT_PATTERN = f"^[^\\u0000]*[^{_INVISIBLE_BMP}][^\\u0000]*$"


def check_title(value: str) -> str:
    storable(value)
    check_line_text(value)
    if not has_visible_character(value):
        raise ValueError("must contain at least one visible character")
    return value


# --- Ids in a path: decimal digits only ("1.0", "+1", " 1" and "1_000" are not ids).


def check_decimal_id(value: object) -> object:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number in decimal digits")
    return value


# --- Avatars: an absolute http(s) URL with a host, at most IMAGE_MAX_LENGTH characters

IMAGE_MAX_LENGTH = 500


# The rule, written once as a JSON Schema pattern that the server checks too, so that the schema
# and the server can never disagree: a case-insensitive http or https scheme, an optional
# user-info part, a host without spaces, control characters, '/', '?', '#', '@', ':' or brackets
# (IPv6 literals are left out), an optional port, then any path, query and fragment without
# spaces or control characters.
_URL_CHAR = "[^\\s\\u0000-\\u001f\\u007f\\u0085"
IMAGE_URL_PATTERN = (
    f"^[hH][tT][tT][pP][sS]?://(?:{_URL_CHAR}/?#@\\[\\]]*@)?{_URL_CHAR}/?#@:\\[\\]]+"
    f"(?::[0-9]*)?(?:[/?#]{_URL_CHAR}]*)?$"
)
_IMAGE_URL = re.compile(IMAGE_URL_PATTERN)


def check_image_url(value: str) -> str:
    """An http or https URL with a host (IMAGE_URL_PATTERN), stored exactly as sent."""
    storable(value)
    if len(value) > IMAGE_MAX_LENGTH:
        raise ValueError(f"must be at most {IMAGE_MAX_LENGTH} characters")
    if _IMAGE_URL.fullmatch(value) is None:
        raise ValueError(
            "must be an http or https URL with a host, without spaces or control characters"
        )
    return value


# --- Links a post shows (its feature image, its canonical URL, its social card's image): the
# avatars' rule (IMAGE_URL_PATTERN), each with a length of its own that the schema states.

HTTP_URL_PATTERN = IMAGE_URL_PATTERN


def check_http_url(value: str) -> str:
    """An http or https URL with a host (HTTP_URL_PATTERN), stored exactly as sent."""
    storable(value)
    if _IMAGE_URL.fullmatch(value) is None:
        raise ValueError(
            "must be an http or https URL with a host, without spaces or control characters"
        )
    return value


# --- Comments: 1-COMMENT_MAX_LENGTH characters (line breaks welcome), something visible

COMMENT_MAX_LENGTH = 5000


# The rule below as a JSON Schema pattern: no NUL, and something visible (BMP, as for titles).
COMMENT_BODY_PATTERN = VISIBLE_TEXT_PATTERN


def check_comment_body(value: str) -> str:
    storable(value)
    if not has_visible_character(value):
        raise ValueError("must contain at least one visible character")
    return value


# --- Excerpts: what a list shows of a post's content

EXCERPT_LENGTH = 200
_ELLIPSIS = "\u2026"
_LAST_PARTIAL_WORD = re.compile(r"\s\S*$")


def excerpt(content: str) -> str:
    """The start of `content`, at most EXCERPT_LENGTH characters; when cut, cut after the last
    whole word that fits and ended with an ellipsis."""
    if len(content) <= EXCERPT_LENGTH:
        return content
    cut = content[: EXCERPT_LENGTH - 1]  # room for the ellipsis
    if not content[EXCERPT_LENGTH - 1].isspace():
        # The cut falls inside a word: drop that word, unless it is the only one.
        partial = _LAST_PARTIAL_WORD.search(cut)
        if partial and cut[: partial.start()].strip():
            cut = cut[: partial.start()]
    return cut.rstrip() + _ELLIPSIS
