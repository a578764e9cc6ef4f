"""An error on a page a person opened is a page in words, never the API's JSON or a stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from phoneauth.domain.rate_limits import IpRateLimitedError
from phoneauth.errors import DatabaseBusyError
from phoneauth.wiring import Services


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://phoneauth.test", headers={"Accept": "text/html"}
    ) as client:
        yield client


PAGES = ["/sign-in", "/register", "/forgot-password", "/t/default/sign-in"]


@pytest.mark.parametrize("path", PAGES)
async def test_a_coded_error_is_a_page_that_says_when_to_come_back(
    browser: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    async def busy(_tenant_id: str) -> None:
        raise DatabaseBusyError()

    monkeypatch.setattr(services.sign_in_experience, "current", busy)
    page = await browser.get(path)
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"] == "1"
    assert "Not available right now" in page.text
    assert "Please try again in a moment" in page.text
    assert "server.busy" not in page.text  # the person reads words, not the code


async def test_a_rate_limit_is_a_429_page(
    browser: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def limited(_tenant_id: str) -> None:
        raise IpRateLimitedError(retry_after=30)

    monkeypatch.setattr(services.sign_in_experience, "current", limited)
    page = await browser.get("/sign-in")
    assert (page.status_code, page.headers["retry-after"]) == (429, "30")
    assert "Too many attempts" in page.text


async def test_a_bug_is_a_500_page_with_a_reference_in_the_log(
    browser: httpx.AsyncClient,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(_tenant_id: str) -> None:
        raise RuntimeError("a bug with a secret 123456")

    monkeypatch.setattr(services.sign_in_experience, "current", broken)
    page = await browser.get("/sign-in")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text
    assert "123456" not in page.text
    assert "Traceback" not in page.text
    logged = [r for r in caplog.records if r.name == "phoneauth.pages"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    reference = logged[0].getMessage().split()[-1]
    assert reference in page.text


async def test_an_http_error_keeps_its_status(
    browser: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the app's own handlers answer (an HTTP error, invalid input) is not a bug page."""
    from starlette.exceptions import HTTPException

    async def gone(_tenant_id: str) -> None:
        raise HTTPException(410, "Gone")

    monkeypatch.setattr(services.sign_in_experience, "current", gone)
    page = await browser.get("/sign-in")
    assert page.status_code == 410
