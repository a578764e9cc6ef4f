"""The favicon: `/favicon.ico` answers the brand mark, and every page links it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from tests.web.account_support import anonymous


async def test_favicon_ico_is_the_svg_mark_not_a_404(app: FastAPI) -> None:
    async with anonymous(app) as browser:
        icon = await browser.get("/favicon.ico")
        linked = await browser.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert linked.status_code == 200
    assert linked.content == icon.content


async def test_the_pages_and_the_console_link_the_icon(app: FastAPI) -> None:
    async with anonymous(app) as browser:
        pages = [await browser.get(path) for path in ("/sign-in", "/console/setup")]
    for page in pages:
        assert isinstance(page, httpx.Response)
        assert '<link rel="icon" href="/static/favicon.svg' in page.text, page.url
