"""The RealWorld (Conduit) face of blog-api, under `/api`.

A second HTTP face over the same services as `/api/v1`: RealWorld's paths, bodies, statuses and
error shape, translated to and from the native services. Where RealWorld's rules differ from the
native API's, the difference lives here and is named (see `convert.py` and the routes).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from blog_api.kit.routing import include
from blog_api.realworld import articles, comments, profiles, tags, users
from blog_api.realworld.errors import plain_error
from blog_api.realworld.openapi import PREFIX, install_docs

__all__ = ["PREFIX", "install", "plain_error", "router"]

router = APIRouter()
routers = (
    users.router,
    profiles.router,
    articles.router,
    comments.router,
    articles.favorites_router,
    tags.router,
)
for part in routers:
    router.include_router(part)


def install(app: FastAPI) -> None:
    """Serve the face under `/api`, with its own OpenAPI document at `/api/openapi.json`."""
    # Out of the native document; the face's own document is built from `router`. The parts
    # are included one by one rather than through `router`: one level of routers less to
    # match through.
    for part in routers:
        include(app, part, PREFIX, include_in_schema=False)
    install_docs(app, router)
