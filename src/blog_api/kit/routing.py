"""Routers that a request for another router's paths skips with one string comparison.

FastAPI tries an app's included routers one at a time, in the order they were included, and
each included router tries its routes one at a time (twice: once to find the router, once to
find the route in it): a request for the last router included pays for every route before it.
A `PathRouter` included with `include` knows the literal start of each of its paths, the part
before the first parameter (`/api/v1/posts/` for `/api/v1/posts/{post_id}`), and answers "no
match" at once for a path that begins with none of them. Only cost changes: a path outside
those starts can match none of its routes, neither fully nor by path with another method (what
a 405 reads), nor with a slash added or removed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path  # FastAPI's own routing reads the path with it
from starlette.routing import Match
from starlette.types import Scope


class PathRouter(APIRouter):
    """An `APIRouter` that is skipped for paths outside its routes' literal starts, once it is
    included with `include` (included otherwise, it is a plain `APIRouter`)."""

    _starts: tuple[str, ...] | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        starts = self._starts
        if starts is not None and not get_route_path(scope).startswith(starts):
            return Match.NONE, {}
        return super().matches(scope)


def literal_starts(paths: list[str]) -> tuple[str, ...]:
    """What each path begins with before its first parameter (`/posts/{id}` -> `/posts/`),
    without the starts that another one begins (`/posts` covers `/posts/`)."""
    starts = sorted({path.partition("{")[0] for path in paths})
    kept: list[str] = []
    for start in starts:  # sorted: a start comes right after the shorter ones it begins with
        if not kept or not start.startswith(kept[-1]):
            kept.append(start)
    return tuple(kept)


def include(
    parent: FastAPI | APIRouter, router: APIRouter, prefix: str = "", **options: Any
) -> None:
    """`parent.include_router(router, prefix=prefix, **options)`; a `PathRouter` learns the
    literal starts of its paths as served (declare its routes first: they are read now)."""
    if isinstance(router, PathRouter):
        paths = [getattr(route, "path", "") for route in router.routes]
        starts = literal_starts([prefix + path for path in paths]) if all(paths) else None
        if router._starts is not None and router._starts != starts:
            raise ValueError(f"{router!r} is included under two prefixes: {router._starts}")
        router._starts = starts
    parent.include_router(router, prefix=prefix, **options)
