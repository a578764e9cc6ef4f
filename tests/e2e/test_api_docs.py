"""/docs in Chromium with no internet: every request to another host is refused.

FastAPI's own page loads Swagger UI from a CDN, and offline /docs was blank. Here the browser may
reach 127.0.0.1 only; the page must still draw every operation of the document, and ask for
nothing elsewhere. The page is photographed to tests/artifacts/ (gitignored) for a person to
look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from tests import local_http
from tests.e2e.browsers import LAPTOP, screenshot
from tests.e2e.conftest import Deployment, deploy_on_sqlite

# Drawing several hundred operations takes a while on a busy machine; the limit only says when
# to give up, a page that never draws them still fails.
DRAWN_WITHIN_MS = 60_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("docs"), "docs-test-secret") as deployed:
        yield deployed


@pytest.fixture
def refused() -> list[str]:
    """The URLs the page asked for on other hosts (each refused as if offline)."""
    return []


@pytest.fixture
def page(browser: Browser, refused: list[str]) -> Iterator[Page]:
    """A laptop-sized page that reaches this machine's 127.0.0.1 and nothing else."""
    context = browser.new_context(viewport=LAPTOP)

    def offline(route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme == "data" or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", offline)
    yield context.new_page()
    context.close()


def operations(site: Deployment) -> int:
    """How many operations the served OpenAPI document lists."""
    document = local_http.get(f"{site.url}/openapi.json", timeout=60).json()
    return sum(
        1
        for path in document["paths"].values()
        for method in path
        if method in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    )


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"api-docs-{name}", full_page=False)


def test_swagger_ui_draws_every_operation_offline(
    site: Deployment, page: Page, refused: list[str]
) -> None:
    page.goto(f"{site.url}/docs")
    expect(page.locator(".information-container .title")).to_contain_text(
        "phoneauth", timeout=DRAWN_WITHIN_MS
    )
    connectors = page.locator('.opblock-summary-path[data-path="/api/connectors"]')
    expect(connectors.first).to_be_visible(timeout=DRAWN_WITHIN_MS)
    expect(page.locator(".opblock")).to_have_count(operations(site), timeout=DRAWN_WITHIN_MS)
    shoot(page, "swagger-ui")
    # Open one operation: its parameters and answers come from the document too.
    page.locator('.opblock-summary-path[data-path="/health"]').click()
    expect(page.locator(".opblock.is-open .responses-wrapper")).to_be_visible()
    shoot(page, "swagger-ui-operation")
    assert refused == []
