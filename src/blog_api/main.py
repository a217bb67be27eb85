"""The ASGI application: `create_app(settings)`, and `blog_api.main:app` for Uvicorn.

`app` is built on first access (PEP 562), from the environment's settings: importing this
module reads no settings, so tests and tools build the app with settings of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from blog_api import realworld
from blog_api.auth import router as auth
from blog_api.auth.deps import get_auth_service, get_current_user, get_optional_user
from blog_api.auth.security import TokenCodec
from blog_api.comments import router as comments
from blog_api.config import Settings, get_settings
from blog_api.counters.service import fold_counters
from blog_api.favorites import router as favorites
from blog_api.feed import router as feed
from blog_api.follows import router as follows
from blog_api.health import router as health
from blog_api.kit.background import BackgroundRunner, Job
from blog_api.kit.db import create_engine, create_session_factory
from blog_api.kit.deps import database_answers, get_session, no_store, rate_limited
from blog_api.kit.docs import serve_docs
from blog_api.kit.middleware import (
    REQUEST_ID_HEADER,
    BodyLimitMiddleware,
    DatabaseFaultMiddleware,
    MethodsMiddleware,
    ProblemCORSMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    UnhandledErrorMiddleware,
    paths_declaring,
)
from blog_api.kit.openapi import Policies, document_api, operation_id
from blog_api.kit.problems import ErrorShapes, install_error_handlers, problem
from blog_api.kit.ratelimit import RateLimiter, RateLimitSettings
from blog_api.kit.routing import include
from blog_api.kit.server import HEAD_TIMEOUT_STATE
from blog_api.posts import router as posts
from blog_api.posts.deps import publish_due_posts
from blog_api.tags import router as tags
from blog_api.users import router as users
from blog_api.users.passwords import PasswordHasher

API_PREFIX = "/api/v1"

# The domains' routers under /api/v1, in the order requests are matched against them: the
# reads of posts, most of a blog's traffic, first. Each is a kit.routing.PathRouter, which a
# request for another router's paths skips at once. A new resource adds its router here.
DOMAIN_ROUTERS = (
    posts.router,
    comments.router,
    favorites.router,
    feed.router,
    tags.router,
    users.router,
    follows.router,
)

# The youngest generation is collected every this many allocations (Python's default: 700).
_GC_YOUNG_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """Python's cyclic garbage collector, set for a long-running server.

    Everything alive once the app has started (modules, routes, validators, the engine) lives
    as long as the process: `gc.freeze()` moves it out of the collector's sight, so that a
    full collection no longer walks all of it. A request leaves few reference cycles behind,
    so the youngest generation is collected every 10,000 allocations instead of 700. What
    that buys is measured in bench/RESULTS.md.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, middle, oldest)


def background_jobs(settings: Settings, factory: async_sessionmaker[AsyncSession]) -> list[Job]:
    """Everything that runs in the background, once whichever process runs it (see
    kit/background.py). A new kind of background work is a Job here."""
    jobs = [
        # At start-up too: posts whose instant passed while nothing ran go live at once.
        Job(
            "publish_scheduled_posts",
            settings.publish_scheduled_seconds,
            lambda: publish_due_posts(factory),
            lease=10,  # one UPDATE: a process that died midway delays posts by this at most
            at_start=True,
        ),
    ]
    if settings.counter_fold_seconds > 0:
        jobs.append(
            Job("fold_counters", settings.counter_fold_seconds, lambda: fold_counters(factory))
        )
    return jobs


async def run_background(settings: Settings) -> None:
    """`python -m blog_api worker`: the background work alone, until SIGTERM or SIGINT."""
    logging.basicConfig(level=settings.log_level.upper())
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    runner = BackgroundRunner(factory, background_jobs(settings, factory))
    task = asyncio.ensure_future(runner.run_forever())
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop, task.cancel)
    logging.getLogger(__name__).info(
        "Background worker running: %s", ", ".join(job.name for job in runner.jobs)
    )
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        await engine.dispose()


def create_app(settings: Settings) -> FastAPI:
    logging.basicConfig(level=settings.log_level.upper())
    engine = create_engine(settings)

    session_factory = create_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, float]]:
        if settings.gc_tuning:
            tune_garbage_collector()
        background = None
        if settings.background_in_web:
            runner = BackgroundRunner(session_factory, background_jobs(settings, session_factory))
            background = asyncio.create_task(runner.run_forever())
        # The lifespan state reaches every connection's protocol (kit/server.py) as well.
        yield {HEAD_TIMEOUT_STATE: settings.request_head_timeout}
        if background is not None:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
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
        generate_unique_id_function=operation_id,
        docs_url=None,  # served from the app's own assets below, not from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.hasher = PasswordHasher(settings.bcrypt_rounds)
    app.state.token_codec = TokenCodec(settings.jwt_secret, settings.access_token_expire_minutes)
    app.state.rate_limiter = RateLimiter(
        RateLimitSettings(
            login_failures_per_account=settings.login_failures_per_account,
            login_attempts_per_address=settings.login_attempts_per_address,
            registrations_per_address=settings.registrations_per_address,
            password_changes_per_account=settings.password_changes_per_account,
            redis_url=settings.redis_url,
            key_prefix=settings.rate_limit_prefix,
        )
    )

    # Errors answered outside the routes take the shape of the face the path is under.
    shapes = ErrorShapes({realworld.PREFIX: realworld.plain_error, API_PREFIX: problem})
    install_error_handlers(app, shapes)
    serve_docs(
        app, openapi_url="/openapi.json", docs_url="/docs", redoc_url="/redoc", title=app.title
    )
    document_api(
        app,
        Policies(
            login_required=(get_current_user,),
            uses_database=(get_session, get_auth_service, get_optional_user, database_answers),
            rate_limited=(rate_limited,),
        ),
    )
    include(app, health.router)
    # Any token sent is checked, also where none is needed: a bad one is a 401 everywhere.
    for router in DOMAIN_ROUTERS:
        include(app, router, API_PREFIX, dependencies=[Depends(get_optional_user)])
    include(app, auth.router, API_PREFIX)

    realworld.install(app)

    # Middleware added last runs first: request id, security headers and the Host check,
    # CORS, the 500 safety net, the body size limit, then the 503 for database faults (with
    # its one retry of a read).
    app.add_middleware(DatabaseFaultMiddleware, shapes=shapes)
    app.add_middleware(MethodsMiddleware, api=app, shapes=shapes)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes, shapes=shapes
    )
    app.add_middleware(UnhandledErrorMiddleware, shapes=shapes)
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[REQUEST_ID_HEADER, "Location", "Retry-After"],
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        allowed_hosts=settings.allowed_hosts,
        no_store_paths=paths_declaring(app, no_store),
        shapes=shapes,
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def __getattr__(name: str) -> FastAPI:
    """`blog_api.main:app`: the app of the environment's settings, built once, on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    application = create_app(get_settings())
    globals()["app"] = application
    return application
