"""Title-derived slugs: URL-safe, lowercase, never empty."""

from __future__ import annotations

import re
import secrets
import unicodedata

MAX_BASE_LENGTH = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG_LENGTH = 255
_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# Slugs that are a path of the API themselves: `/api/articles/feed` is the RealWorld feed, so
# an article there could never be read. A title that slugifies to one gets a suffix, as a
# repeated title does.
RESERVED_SLUGS = frozenset({"feed"})


def slugify(title: str) -> str:
    """'Héllo, World!' -> 'hello-world'; a title with no letters or digits -> 'post'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")
    slug = slug[:MAX_BASE_LENGTH].rstrip("-")
    return slug or "post"


# What a slug sent by a client must hold, as the schema says it: an ASCII letter or digit,
# which normalising always keeps (so that something is left of it).
SLUG_INPUT_PATTERN = "[A-Za-z0-9]"
MAX_SLUG_INPUT_LENGTH = 200
_SLUG_INPUT = re.compile(SLUG_INPUT_PATTERN)


def normalize_slug(value: str) -> str:
    """A slug sent by a client, normalised as derived slugs are ('Hello World' ->
    'hello-world'); ValueError when nothing usable is left, or when a path of the API holds
    it."""
    if _SLUG_INPUT.search(value) is None:
        raise ValueError("A slug needs at least one letter or digit (a-z, 0-9)")
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_value.lower()).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    if slug in RESERVED_SLUGS:
        raise ValueError(f"The slug {slug!r} is a path of the API")
    return slug


def first_choice(base: str) -> str:
    """The slug a post titled to `base` tries first: `base`, unless a path holds it."""
    return with_random_suffix(base) if base in RESERVED_SLUGS else base


def with_random_suffix(base: str) -> str:
    """`base` plus a random suffix: a second post with the same title gets `hello-world-k3x9qa`.

    Random rather than counting (-2, -3...): racing requests would all pick the same next number.
    """
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return f"{base}-{suffix}"


def is_slug(value: str) -> bool:
    """Whether `value` could be a slug this module made (anything else names no post)."""
    return len(value) <= MAX_SLUG_LENGTH and _SLUG.fullmatch(value) is not None
