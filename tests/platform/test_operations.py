"""Operations: the superuser command, and the API staying responsive during slow work."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from blog_api.users.passwords import PasswordHasher
from tests.helpers.factories import PASSWORD, UserFactory, auth_headers
from tests.helpers.project import ROOT


def create_superuser(database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {
        k: v for k, v in os.environ.items() if not k.startswith(("SUPERUSER_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "blog_api", "create-superuser"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={
            **variables,
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "BCRYPT_ROUNDS": "4",
            **env,
        },
    )


async def test_superuser_command_creates_refuses_duplicates_and_weak_passwords(
    app: FastAPI, client: AsyncClient, database_url: str
) -> None:
    ok = create_superuser(
        database_url,
        SUPERUSER_EMAIL="Boss@Example.com",
        SUPERUSER_USERNAME="boss",
        SUPERUSER_PASSWORD=PASSWORD,
    )
    assert ok.returncode == 0, ok.stderr
    assert "boss" in ok.stdout
    headers = await auth_headers(client, "boss@example.com")
    me = (await client.get("/api/v1/users/me", headers=headers)).json()
    assert (me["role"], me["is_superuser"]) == ("admin", True)

    taken = create_superuser(
        database_url,
        SUPERUSER_EMAIL="boss@example.com",
        SUPERUSER_USERNAME="other",
        SUPERUSER_PASSWORD=PASSWORD,
    )
    assert taken.returncode != 0
    assert "already registered" in taken.stderr

    taken_name = create_superuser(
        database_url,
        SUPERUSER_EMAIL="new@example.com",
        SUPERUSER_USERNAME="BOSS",
        SUPERUSER_PASSWORD=PASSWORD,
    )
    assert taken_name.returncode != 0
    assert "username" in taken_name.stderr

    weak = create_superuser(
        database_url,
        SUPERUSER_EMAIL="weak@example.com",
        SUPERUSER_USERNAME="weak",
        SUPERUSER_PASSWORD="short",
    )
    assert weak.returncode != 0
    assert "password" in weak.stderr.lower()

    missing = create_superuser(database_url, SUPERUSER_EMAIL="m@example.com")
    assert missing.returncode != 0
    assert "SUPERUSER_USERNAME" in missing.stderr

    users = (await client.get("/api/v1/users")).json()
    assert users["total"] == 1


async def test_health_answers_while_a_login_burst_is_hashed(
    app: FastAPI, client: AsyncClient, make_user: UserFactory
) -> None:
    await make_user("burst")
    original = app.state.hasher
    app.state.hasher = PasswordHasher(rounds=11)  # ~0.1 s per hash: slow, like production
    try:
        logins = [
            asyncio.ensure_future(
                # Unknown accounts: the dummy hash is made with the slow hasher, as in production.
                client.post(
                    "/api/v1/auth/token", data={"username": f"ghost{i}", "password": "x" * 8}
                )
            )
            for i in range(6)
        ]
        await asyncio.sleep(0.01)  # the burst is being hashed now
        health = await client.get("/health")
        listing = await client.get("/api/v1/posts")
        still_hashing = sum(not login.done() for login in logins)
        results = await asyncio.gather(*logins)
    finally:
        app.state.hasher = original
    assert health.status_code == 200
    assert listing.status_code == 200
    assert still_hashing > 0, "other requests were answered while logins were still hashing"
    assert all(r.status_code == 401 for r in results)


async def test_swagger_authorize_uses_the_token_endpoint(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes: dict[str, Any] = schema["components"]["securitySchemes"]
    flows = [s["flows"]["password"]["tokenUrl"] for s in schemes.values() if s["type"] == "oauth2"]
    assert flows == ["/api/v1/auth/token"]
    me = schema["paths"]["/api/v1/users/me"]["get"]
    assert me["security"]


async def test_inactive_user_token_is_403_on_optional_auth_endpoints(
    client: AsyncClient, make_user: UserFactory, superuser: dict[str, Any]
) -> None:
    user = await make_user("dormant")
    await client.patch(
        f"/api/v1/users/{user['id']}", headers=superuser["headers"], json={"is_active": False}
    )
    response = await client.get("/api/v1/posts", headers=user["headers"])
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def _production_shell(tmp_path: Path) -> dict[str, str]:
    """A deployer's shell: production, no secret, a database of its own (and no `.env`, since
    the commands run in an empty directory)."""
    variables = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    return {
        **variables,
        "ENVIRONMENT": "production",
        "ALLOWED_HOSTS": "api.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "PYTHONPATH": str(ROOT / "src"),
    }


def test_migrations_run_in_production_without_the_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=_production_shell(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "prod.db").exists()


def test_importing_the_app_module_reads_no_settings(tmp_path: Path) -> None:
    """Tests and tools build the app with their own settings, whatever the shell says; Uvicorn's
    `blog_api.main:app` still gets the environment's app (refused without a secret)."""
    code = (
        "from pydantic import SecretStr\n"
        "from blog_api.config import Settings\n"
        "from blog_api.main import create_app\n"
        "settings = Settings(_env_file=None, environment='test', database_url='sqlite://')\n"
        "print(type(create_app(settings)).__name__)\n"
        "from uvicorn.importer import import_from_string\n"
        "try:\n"
        "    import_from_string('blog_api.main:app')\n"
        "except ValueError as exc:\n"
        "    print('refused' if 'SECRET_KEY' in str(exc) else exc)\n"
    )
    env = _production_shell(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FastAPI", "refused"]

    served = subprocess.run(
        [
            sys.executable,
            "-c",
            "from uvicorn.importer import import_from_string as i\n"
            "print(type(i('blog_api.main:app')).__name__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "SECRET_KEY": "k" * 48},
    )
    assert served.returncode == 0, served.stderr
    assert served.stdout.split() == ["FastAPI"]
