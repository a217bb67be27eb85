"""/docs and /redoc, and the RealWorld face's /api/docs and /api/redoc, work offline: every
script and stylesheet they load comes from the app."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from httpx import AsyncClient

# src="..." and href="..." in the page, and the spec-url of ReDoc's element.
_REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""")
# Swagger UI's inline script names the OpenAPI document and the OAuth2 redirect page.
_INLINE_URL = re.compile(
    r"""(?:url|oauth2RedirectUrl)\s*:\s*(?:window\.location\.origin\s*\+\s*)?['"]([^'"]+)['"]"""
)

EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "json"}


@pytest.mark.parametrize(
    ("page", "must_load"),
    [
        ("/docs", {".js", ".css", ".json"}),
        ("/redoc", {".js", ".json"}),
        ("/api/docs", {".js", ".css", ".json"}),
        ("/api/redoc", {".js", ".json"}),
    ],
)
async def test_docs_pages_load_everything_from_the_app(
    client: AsyncClient, page: str, must_load: set[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    references = set(_REFERENCE.findall(html)) | set(_INLINE_URL.findall(html))
    assert references, html
    loaded: set[str] = set()
    for reference in sorted(references):
        url = urljoin(f"http://test{page}", reference)
        assert url.startswith("http://test/"), f"{page} loads {reference} from elsewhere"
        asset = await client.get(url)
        assert asset.status_code == 200, f"{page}: {reference} answered {asset.status_code}"
        suffix = next((s for s in EXPECTED_TYPES if reference.endswith(s)), None)
        if suffix is not None:
            assert EXPECTED_TYPES[suffix] in asset.headers["content-type"], reference
            assert len(asset.content) > 100, reference
            loaded.add(suffix)
    assert must_load <= loaded, f"{page} loads {loaded}, expected {must_load}"
    assert "cdn." not in html
    assert "googleapis" not in html
    if page.endswith("/docs"):
        assert f"{page}/oauth2-redirect" in references
        assert '"validatorUrl": null' in html  # no badge fetched from the online validator
