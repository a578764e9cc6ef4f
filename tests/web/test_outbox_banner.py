"""The end-user pages say "codes go to the outbox" only while the outbox is the SMS connector.

Not because the tenant is a development tenant: a development tenant on Twilio or an HTTP
gateway sends real SMS. Over HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

BANNER = "codes go to the outbox, not to real phones"
PAGES = ("/sign-in", "/register", "/forgot-password")  # the last one says it is not available
OUTBOX: dict[str, Any] = {"connectorId": "outbox-sms", "config": {}}
TWILIO: dict[str, Any] = {
    "connectorId": "twilio-short-message-service",
    "config": {
        "accountSID": "AC123",
        "authToken": "tw-secret-banner",
        "fromMessagingServiceSID": "MG123",
        "templates": [{"usageType": "Generic", "content": "Code {{code}}"}],
        "endpoint": "http://127.0.0.1:9",  # never called: showing a page sends nothing
    },
}
HTTP_SMS: dict[str, Any] = {
    "connectorId": "http-sms",
    "config": {"endpoint": "http://127.0.0.1:9/sms"},
}


@pytest.fixture
async def visitor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


async def use(api: httpx.AsyncClient, connector: dict[str, Any], prefix: str = "") -> None:
    created = await api.post(f"{prefix}/api/connectors", json=connector)
    assert created.status_code == 200, created.text


async def banners(visitor: httpx.AsyncClient, prefix: str = "") -> dict[str, bool]:
    """Per page: whether the banner shows."""
    shown = {}
    for path in PAGES:
        response = await visitor.get(prefix + path)
        assert response.status_code == 200, response.text
        page = response.text
        assert (BANNER in page) == ("data-outbox-banner" in page)
        shown[path] = "data-outbox-banner" in page
    return shown


async def test_the_banner_shows_only_once_the_outbox_is_the_connector(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient
) -> None:
    assert await banners(visitor) == dict.fromkeys(PAGES, False)  # no connector yet
    await use(api, OUTBOX)
    assert await banners(visitor) == dict.fromkeys(PAGES, True)


@pytest.mark.parametrize("connector", [TWILIO, HTTP_SMS], ids=["twilio", "http-sms"])
async def test_no_banner_on_a_real_provider_in_a_development_tenant(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    await use(api, OUTBOX)
    await use(api, connector)  # "change connector": it replaces the outbox
    assert (await api.get("/api/tenant")).json()["kind"] == "development"
    assert await banners(visitor) == dict.fromkeys(PAGES, False)


async def test_each_tenant_shows_the_banner_for_its_own_connector(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient
) -> None:
    created = await api.post("/api/tenants", json={"id": "lab", "name": "Lab"})
    assert created.status_code == 201, created.text
    await use(api, OUTBOX, "/t/lab")
    await use(api, TWILIO)
    assert await banners(visitor, "/t/lab") == dict.fromkeys(PAGES, True)
    assert await banners(visitor) == dict.fromkeys(PAGES, False)
    unknown = await visitor.get("/t/nowhere/sign-in")
    assert unknown.status_code == 404
    assert "data-outbox-banner" not in unknown.text


async def test_the_banner_goes_as_soon_as_the_connector_changes(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient
) -> None:
    await use(api, OUTBOX)
    assert (await banners(visitor))["/sign-in"]
    await use(api, TWILIO)
    assert not (await banners(visitor))["/sign-in"]
    production = await api.patch("/api/tenant", json={"kind": "production"})
    assert production.status_code == 200, production.text
    assert not (await banners(visitor))["/sign-in"]
