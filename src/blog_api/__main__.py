"""Command line: `python -m blog_api serve`, `worker`, `create-superuser` and `openapi`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from pydantic import ValidationError

from blog_api.config import get_settings
from blog_api.kit.db import Access, create_engine, create_session_factory, transaction
from blog_api.kit.errors import ConflictError
from blog_api.roles import Role
from blog_api.users.passwords import PasswordHasher
from blog_api.users.repository import UserRepository
from blog_api.users.schemas import UserCreate
from blog_api.users.service import UserService


def _ask(name: str, env: str, *, secret: bool = False) -> str:
    value = os.environ.get(env, "")
    if value:
        return value
    if not sys.stdin.isatty():
        raise SystemExit(f"error: set {env} (or run this in a terminal to be asked for the {name})")
    return getpass.getpass(f"{name}: ") if secret else input(f"{name}: ")


async def _create_superuser(data: UserCreate) -> int:
    settings = get_settings()
    engine = create_engine(settings)
    try:
        async with transaction(create_session_factory(engine), Access.WRITE) as session:
            service = UserService(UserRepository(session), PasswordHasher(settings.bcrypt_rounds))
            user = await service.register(data, role=Role.ADMIN)
            return user.id
    finally:
        await engine.dispose()


def create_superuser() -> int:
    email = _ask("Email", "SUPERUSER_EMAIL")
    username = _ask("Username", "SUPERUSER_USERNAME")
    password = _ask("Password", "SUPERUSER_PASSWORD", secret=True)
    try:
        data = UserCreate(email=email, username=username, password=password)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            print(f"error: {field}: {err['msg']}", file=sys.stderr)
        return 1
    try:
        user_id = asyncio.run(_create_superuser(data))
    except ConflictError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    print(f"Superuser {data.username} created (id {user_id}).")
    return 0


def serve(workers: int) -> int:
    import uvicorn

    from blog_api.kit.server import uvicorn_options

    settings = get_settings()
    if workers > 1 and settings.secret_generated:
        print(
            f"error: set SECRET_KEY to run {workers} workers: without it each worker signs "
            "tokens with a secret of its own and refuses the others' tokens. Generate one with\n"
            '  python -c "import secrets; print(secrets.token_urlsafe(48))"\n'
            "and put SECRET_KEY=<it> in the environment or in .env.",
            file=sys.stderr,
        )
        return 2
    uvicorn.run("blog_api.main:app", workers=workers, **uvicorn_options(settings))
    return 0


def worker() -> int:
    """Run the background work (scheduled posts, counter folds) alone, until stopped: for
    deployments whose web processes leave it out (BACKGROUND_IN_WEB=false). Any number of
    workers and web processes may run it on one database: each turn runs in one of them."""
    from blog_api.main import run_background

    asyncio.run(run_background(get_settings()))
    return 0


def print_openapi() -> int:
    """Print the OpenAPI document, as `/openapi.json` serves it, without serving anything."""
    import json

    from blog_api.config import Settings
    from blog_api.main import create_app

    # The document depends on the routes, not on the secret: no SECRET_KEY needed here.
    app = create_app(Settings(environment="test"))
    print(json.dumps(app.openapi(), indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="blog-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the API on HOST:PORT")
    run.add_argument("--workers", type=int, help="Uvicorn worker processes (default: WORKERS)")
    commands.add_parser(
        "worker", help="run the background work alone (for BACKGROUND_IN_WEB=false deployments)"
    )
    commands.add_parser(
        "create-superuser",
        help="create a superuser from SUPERUSER_EMAIL, SUPERUSER_USERNAME, SUPERUSER_PASSWORD "
        "(asking for what is missing in a terminal)",
    )
    commands.add_parser("openapi", help="print the OpenAPI document (what /openapi.json serves)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.workers or get_settings().workers)
    if args.command == "openapi":
        return print_openapi()
    if args.command == "worker":
        return worker()
    return create_superuser()


if __name__ == "__main__":
    raise SystemExit(main())
