"""Swagger UI and ReDoc pages served with their assets from the app itself: they work offline
and load nothing from a CDN.

The assets come from the `fastapi-offline` package (Swagger UI's bundle and stylesheet, ReDoc's
standalone bundle, a favicon), kept up to date by its releases; only its files are used, and
FastAPI's own page templates.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
_ASSETS_ROUTE = "docs-assets"


def _mount_assets(app: FastAPI) -> None:
    if not any(getattr(route, "name", None) == _ASSETS_ROUTE for route in app.routes):
        assets = StaticFiles(packages=[("fastapi_offline", "static")])
        app.mount(ASSETS_URL, assets, name=_ASSETS_ROUTE)


def serve_docs(
    app: FastAPI,
    *,
    openapi_url: str,
    docs_url: str,
    redoc_url: str,
    title: str,
) -> None:
    """Serve Swagger UI at `docs_url` and ReDoc at `redoc_url`, both reading `openapi_url`.

    Call it once per OpenAPI document (create the app with `docs_url=None, redoc_url=None` so
    that FastAPI's CDN-based pages are not served). The assets are mounted once, at
    `/docs-assets`, whatever the number of calls.
    """
    _mount_assets(app)
    oauth2_redirect_url = f"{docs_url}/oauth2-redirect"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=f"{root}{oauth2_redirect_url}",
            # No badge from the online validator: the page makes no request elsewhere.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    app.add_api_route(docs_url, swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        oauth2_redirect_url, swagger_ui_oauth2_redirect, methods=["GET"], include_in_schema=False
    )
    app.add_api_route(redoc_url, redoc, methods=["GET"], include_in_schema=False)
