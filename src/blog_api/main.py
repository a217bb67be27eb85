"""The ASGI application: `blog_api.main:app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from blog_api.api.deps import get_optional_user
from blog_api.api.problems import (
    REQUEST_ID_HEADER,
    RequestIdMiddleware,
    UnhandledErrorMiddleware,
    document_problems,
    install_error_handlers,
)
from blog_api.api.routers import auth, health, posts, tags, users
from blog_api.config import Settings, get_settings
from blog_api.db import create_engine, create_session_factory
from blog_api.security import PasswordHasher, TokenCodec

API_PREFIX = "/api/v1"


def _operation_id(route: APIRoute) -> str:
    """Stable, unique operation ids (`users-get_user`) so front ends can generate typed clients."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    engine = create_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="blog-api",
        version="1.0.0",
        summary="A blog backend: users, JWT login, posts with drafts, slugs and tags.",
        description=(
            "Errors are RFC 9457 problem details (`application/problem+json`). "
            "Every response carries `X-Request-ID`. Lists are paginated with `page` and "
            "`per_page`."
        ),
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.state.hasher = PasswordHasher(settings.bcrypt_rounds)
    app.state.token_codec = TokenCodec(settings.jwt_secret, settings.access_token_expire_minutes)

    install_error_handlers(app)
    document_problems(app)
    app.include_router(health.router)
    app.include_router(auth.router, prefix=API_PREFIX)
    # Any token sent is checked, also where none is needed: a bad one is a 401 everywhere.
    for module in (users, posts, tags):
        app.include_router(
            module.router, prefix=API_PREFIX, dependencies=[Depends(get_optional_user)]
        )

    # Middleware added last runs first: request id, then CORS, then the 500 safety net.
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[REQUEST_ID_HEADER, "Location"],
    )
    app.add_middleware(RequestIdMiddleware)
    return app


app = create_app()
