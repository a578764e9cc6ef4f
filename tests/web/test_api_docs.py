"""The interactive API documentation (/docs, /redoc) needs nothing but this server.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: offline, /docs stayed blank. Here every
URL the pages reference is local and answers with the right type; tests/e2e/test_api_docs.py
opens /docs in Chromium with every other host blocked.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from phoneauth.settings import Settings
from phoneauth.web.app import create_app

# What each referenced file must be served as, by its extension.
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# The files each page loads: Swagger UI's script, styles and icon; ReDoc's script and icon.
LOADED = {"/docs": {".js", ".css", ".png"}, "/redoc": {".js", ".png"}}
REFERENCE = re.compile(r'\b(?:src|href|spec-url)="([^"]*)"')


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The pages need no database: the app is not even started."""
    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


async def page(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_reference_only_this_server(
    client: httpx.AsyncClient, path: str
) -> None:
    html = await page(client, path)
    assert "http://" not in html
    assert "https://" not in html
    referenced = REFERENCE.findall(html)
    assert referenced, html
    for url in referenced:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url  # a scheme-relative URL would reach another host


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_every_file_the_docs_pages_load_is_served_with_its_type(
    client: httpx.AsyncClient, path: str
) -> None:
    files = [url for url in REFERENCE.findall(await page(client, path)) if "." in url]
    assert {Path(url).suffix for url in files} == LOADED[path]
    for url in files:
        response = await client.get(url)
        assert response.status_code == 200, url
        expected = CONTENT_TYPES[Path(url).suffix]
        assert response.headers["content-type"].startswith(expected), (url, response.headers)
        assert len(response.content) > 1000, url  # the real file, not an empty stand-in


async def test_swagger_ui_reads_this_servers_openapi_document(client: httpx.AsyncClient) -> None:
    html = await page(client, "/docs")
    assert "url: '/openapi.json'" in html
    assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io
    assert 'spec-url="/openapi.json"' in await page(client, "/redoc")
    document = await client.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "phoneauth"
