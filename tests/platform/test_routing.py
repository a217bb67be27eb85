"""Route matching: a request is tried only against the routes whose literal start it shares
(kit/routing.py), and that changes which route answers in no case."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient
from starlette.routing import Match
from starlette.types import Scope

from blog_api.kit.routing import PathRouter, include, literal_starts
from blog_api.realworld import articles as realworld_articles
from blog_api.realworld import tags as realworld_tags
from blog_api.tags import router as tags
from blog_api.users import router as users


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every APIRoute a request is matched against, in order."""
    paths: list[str] = []
    original = APIRoute.matches

    def matches(route: APIRoute, scope: Scope) -> tuple[Match, Scope]:
        paths.append(route.path)
        return original(route, scope)

    monkeypatch.setattr(APIRoute, "matches", matches)
    return paths


def test_literal_starts() -> None:
    assert literal_starts(["/posts", "/posts/{post_id}", "/posts/by-slug/{slug}"]) == ("/posts",)
    assert literal_starts(["/users", "/users/login", "/user"]) == ("/user",)
    assert literal_starts(["/posts/{id}", "/users/me/posts"]) == ("/posts/", "/users/me/posts")
    assert literal_starts(["/{anything}", "/posts"]) == ("/",)


@pytest.mark.parametrize(
    ("path", "router"),
    [
        ("/api/tags", realworld_tags.router),
        ("/api/articles?limit=1", realworld_articles.router),
        ("/api/v1/tags", tags.router),
        ("/api/v1/users", users.router),
    ],
)
async def test_a_request_is_matched_only_against_its_own_routers_routes(
    client: AsyncClient, tried: list[str], path: str, router: APIRouter
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    # Every router before the right one is skipped without trying its routes: what is tried
    # is the app's own plain routes before the routers (the docs pages) and the routes of the
    # router that serves the path.
    own = {route.path for route in router.routes if isinstance(route, APIRoute)}
    assert set(tried) - own <= {"/docs", "/docs/oauth2-redirect", "/redoc"}, tried
    assert own & set(tried), tried


def _app() -> FastAPI:
    app = FastAPI()
    first = PathRouter(prefix="/things")

    @first.get("/{thing_id}")
    async def get_thing(thing_id: int) -> dict[str, int]:
        return {"thing": thing_id}

    @first.get("")
    async def list_things() -> list[int]:
        return [1]

    second = PathRouter()

    @second.put("/things/{thing_id}/star")
    async def star(thing_id: int) -> dict[str, int]:
        return {"star": thing_id}

    include(app, first, "/v1")
    include(app, second, "/v1")
    return app


async def test_matching_answers_as_before_skipping() -> None:
    """The 200s, the 405 with its Allow, the slash redirect and the 404 are the same as with
    plain routers."""
    async with AsyncClient(transport=ASGITransport(app=_app()), base_url="http://t") as client:
        assert (await client.get("/v1/things/3")).json() == {"thing": 3}
        assert (await client.get("/v1/things")).json() == [1]
        assert (await client.put("/v1/things/3/star")).json() == {"star": 3}
        refused = await client.post("/v1/things/3")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET"
        redirected = await client.get("/v1/things/", follow_redirects=False)
        assert redirected.status_code == 307
        assert redirected.headers["location"].endswith("/v1/things")
        assert (await client.get("/v1/other")).status_code == 404
        assert (await client.get("/v2/things/3")).status_code == 404


def test_a_router_served_under_two_starts_is_refused() -> None:
    router = PathRouter()

    @router.get("/x")
    async def x() -> None: ...

    include(FastAPI(), router, "/a")
    include(FastAPI(), router, "/a")  # the same start again is fine
    with pytest.raises(ValueError, match="two prefixes"):
        include(FastAPI(), router, "/b")
    plain = APIRouter()
    include(FastAPI(), plain, "/a")  # a plain router is included as it is
    include(FastAPI(), plain, "/b")
