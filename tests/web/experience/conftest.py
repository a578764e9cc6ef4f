"""Fixtures for Experience API tests: the outbox as SMS connector and an end user's client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from tests.web.experience.support import EndUser

from phoneauth.wiring import Services


@pytest.fixture
async def outbox(api: httpx.AsyncClient) -> None:
    """The outbox is the default tenant's SMS connector, set up over the Management API."""
    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    assert created.status_code == 200, created.text


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An end user's client: no admin key, its own cookie jar."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


@pytest.fixture
def user(
    browser: httpx.AsyncClient, api: httpx.AsyncClient, outbox: None, services: Services
) -> EndUser:
    return EndUser(browser, api, delivered=services.codes.background.wait)
