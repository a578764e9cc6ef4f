"""The pages' files under /static: named by a digest of their content, kept by browsers as long
as that name holds, asked for again (304 while unchanged) under any other name."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from phoneauth.web.static_assets import IMMUTABLE, REVALIDATE, STATIC_DIR, StaticAssets

STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]+)"')


@pytest.fixture
async def visitor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


@pytest.fixture
async def outbox(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    assert created.status_code == 200, created.text


def _digest(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


@pytest.mark.usefixtures("outbox")
async def test_each_page_names_its_files_by_their_content_and_browsers_keep_them(
    visitor: httpx.AsyncClient,
) -> None:
    linked: dict[str, str] = {}
    for page in ("/sign-in", "/register", "/forgot-password", "/console/sign-in"):
        response = await visitor.get(page, follow_redirects=True)  # the console: to its setup
        assert response.status_code == 200, page
        linked |= dict(STATIC_LINK.findall(response.text))
    # The stylesheet, the icon and the scripts the pages and the console load.
    assert {"phoneauth.css", "favicon.svg", "phone.js", "experience.js"} <= {
        Path(path).name for path in linked
    }
    for path, digest in linked.items():
        assert digest == _digest(Path(path).name), path
        response = await visitor.get(f"{path}?v={digest}")
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == IMMUTABLE


async def test_a_file_asked_for_by_another_name_is_checked_again_each_time(
    visitor: httpx.AsyncClient,
) -> None:
    for query in ("", "?v=0.1.0", "?v=" + "0" * 12):
        response = await visitor.get(f"/static/phoneauth.css{query}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == REVALIDATE
        again = await visitor.get(
            f"/static/phoneauth.css{query}", headers={"If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.headers["cache-control"] == REVALIDATE
    assert (await visitor.get("/static/missing.css?v=1")).status_code == 404


async def test_a_changed_file_gets_a_new_name_and_the_old_name_is_no_longer_kept(
    tmp_path: Path,
) -> None:
    (tmp_path / "site.css").write_text("body { color: black }")
    before = StaticAssets(tmp_path)
    (tmp_path / "site.css").write_text("body { color: navy }")
    after = StaticAssets(tmp_path)  # the next start of the service, with the new release
    assert before.url("site.css") != after.url("site.css")
    assert after.url("site.css").startswith("/static/site.css?v=")
    with pytest.raises(KeyError):
        after.url("missing.css")
    app = Starlette(routes=[Mount("/static", after)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        old = await client.get(before.url("site.css"))
        new = await client.get(after.url("site.css"))
    assert (old.text, old.headers["cache-control"]) == ("body { color: navy }", REVALIDATE)
    assert (new.text, new.headers["cache-control"]) == ("body { color: navy }", IMMUTABLE)
