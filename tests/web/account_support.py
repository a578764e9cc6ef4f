"""Helpers for end-user web tests: the outbox as SMS connector, signed-in clients, codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from phoneauth.domain.users import User
from phoneauth.wiring import Services

PHONE = "+4915112345678"
NEW_PHONE = "+4915187654321"
THIRD_PHONE = "+4915199999999"


class Clock:
    """Now is whatever the test says; starts at the real time so codes look fresh."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def use_outbox(api: httpx.AsyncClient, prefix: str = "") -> None:
    """Make the outbox the tenant's SMS connector, through the Management API."""
    created = await api.post(f"{prefix}/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text


async def latest_message(api: httpx.AsyncClient, phone: str, prefix: str = "") -> dict[str, str]:
    messages = (await api.get(f"{prefix}/api/outbox", params={"phone": phone})).json()
    assert messages, f"no SMS to {phone}"
    latest: dict[str, str] = messages[0]
    return latest


async def latest_code(api: httpx.AsyncClient, phone: str, prefix: str = "") -> str:
    return (await latest_message(api, phone, prefix))["code"]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@asynccontextmanager
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


@asynccontextmanager
async def signed_in(app: FastAPI, user: User) -> AsyncIterator[httpx.AsyncClient]:
    """A client carrying the access token of a new session of `user`."""
    services: Services = app.state.services
    issued = await services.sessions.sign_in(user)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://phoneauth.test",
        headers={"Authorization": f"Bearer {issued.access_token}"},
    ) as client:
        yield client
