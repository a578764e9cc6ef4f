"""The interactive API documentation (/docs) needs nothing but this server.

FastAPI's own page loads Swagger UI from a CDN: offline, /docs stayed blank. Here every URL the
page references is local and answers with the right type; tests/e2e/test_api_docs.py opens /docs
in Chromium with every other host blocked.
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
REFERENCE = re.compile(r'\b(?:src|href)="([^"]*)"')


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The page needs no database: the app is not even started."""
    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


async def docs_page(client: httpx.AsyncClient) -> str:
    response = await client.get("/docs")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_the_docs_page_references_only_this_server(client: httpx.AsyncClient) -> None:
    html = await docs_page(client)
    assert "http://" not in html
    assert "https://" not in html
    referenced = REFERENCE.findall(html)
    assert referenced, html
    for url in referenced:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url  # a scheme-relative URL would reach another host


async def test_every_file_the_docs_page_loads_is_served_with_its_type(
    client: httpx.AsyncClient,
) -> None:
    files = REFERENCE.findall(await docs_page(client))
    # Swagger UI's script, its styles and the page's icon.
    assert sorted(Path(url).suffix for url in files) == [".css", ".js", ".png"]
    for url in files:
        response = await client.get(url)
        assert response.status_code == 200, url
        expected = CONTENT_TYPES[Path(url).suffix]
        assert response.headers["content-type"].startswith(expected), (url, response.headers)
        assert len(response.content) > 1000, url  # the real file, not an empty stand-in


async def test_swagger_ui_reads_this_servers_openapi_document(client: httpx.AsyncClient) -> None:
    html = await docs_page(client)
    assert "url: '/openapi.json'" in html
    assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io
    document = await client.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "phoneauth"


async def test_there_is_no_redoc_page(client: httpx.AsyncClient) -> None:
    """ReDoc loads Redocly's logo from their CDN even from local files; /docs is the one page."""
    response = await client.get("/redoc")
    assert response.status_code == 404
    assert response.json()["code"] == "entity.not_found"
