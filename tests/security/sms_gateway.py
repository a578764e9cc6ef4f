"""A real SMS gateway for the `http-sms` connector, on its own socket, and the helpers around it.

It records every message it accepts (the code is in `payload.code`) and may take its time, as a
slow provider does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests import local_http
from tests.resend_support import NO_COOLDOWN
from tests.servers import serve_in_thread

from phoneauth.settings import Settings


@dataclass
class Gateway:
    """Accepts each message after `delay` seconds; `failing` makes it answer 502 instead."""

    delay: float = 0.0
    url: str = ""
    failing: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/send", self._send, methods=["POST"])])

    async def _send(self, request: Request) -> JSONResponse:
        message = await request.json()
        await asyncio.sleep(self.delay)
        if self.failing:
            return JSONResponse({"error": "upstream unavailable"}, status_code=502)
        self.received.append(message)
        return JSONResponse({"id": uuid.uuid4().hex})

    @property
    def connector(self) -> dict[str, Any]:
        """The body of `POST /api/connectors` that sends through this gateway."""
        return {"connectorId": "http-sms", "config": {"endpoint": f"{self.url}/send"}}

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [message for message in self.received if message["to"] == phone.lstrip("+")]

    def code(self, phone: str) -> str:
        """The code of the latest SMS to `phone`."""
        messages = self.to(phone)
        assert messages, f"no SMS to {phone}"
        return str(messages[-1]["payload"]["code"])

    async def wait_for(self, phone: str, count: int, seconds: float = 10.0) -> None:
        """Until `count` messages to `phone` arrived (sends answered before the SMS left)."""
        for _ in range(int(seconds / 0.02)):
            if len(self.to(phone)) >= count:
                return
            await asyncio.sleep(0.02)


@contextmanager
def serve_gateway(delay: float = 0.0) -> Iterator[Gateway]:
    gateway = Gateway(delay)
    with serve_in_thread(gateway.asgi()) as url:
        gateway.url = url
        yield gateway


def allowing_local_gateways(settings: Settings) -> Settings:
    """The SSRF guard (another change of issue 11) refuses 127.0.0.1 endpoints unless
    `connector_allow_private_hosts` is set: set it where that setting exists."""
    if "connector_allow_private_hosts" in Settings.model_fields:
        return settings.model_copy(update={"connector_allow_private_hosts": True})
    return settings


async def use_gateway(admin: httpx.AsyncClient, gateway: Gateway, **limits: int) -> None:
    """The gateway as the tenant's SMS connector, and the tenant's `rateLimits` changed (with
    no resend cooldown: budget tests send to one number in a row)."""
    created = await admin.post("/api/connectors", json=gateway.connector)
    assert created.status_code == 200, created.text
    if limits:
        changes = {"rateLimits": limits, **NO_COOLDOWN}
        saved = await admin.patch("/api/tenant/settings", json=changes)
        assert saved.status_code == 200, saved.text


async def send_experience_code(client: httpx.AsyncClient, phone: str, event: str) -> httpx.Response:
    """`POST /api/experience/verification/verification-code` in the client's interaction."""
    return await client.post(
        "/api/experience/verification/verification-code",
        json={"identifier": {"type": "phone", "value": phone}, "interactionEvent": event},
    )


async def verify_experience_code(
    client: httpx.AsyncClient, phone: str, verification_id: str, code: str
) -> httpx.Response:
    return await client.post(
        "/api/experience/verification/verification-code/verify",
        json={
            "identifier": {"type": "phone", "value": phone},
            "verificationId": verification_id,
            "code": code,
        },
    )


async def register(base_url: str, gateway: Gateway, phone: str) -> None:
    """An account for `phone`, made as an end user makes one (the code read off the gateway)."""
    async with local_http.async_client(base_url=base_url, timeout=30) as client:
        started = await client.put("/api/experience", json={"interactionEvent": "Register"})
        assert started.status_code == 204, started.text
        sent = await send_experience_code(client, phone, "Register")
        assert sent.status_code == 200, sent.text
        verification_id = sent.json()["verificationId"]
        verified = await verify_experience_code(client, phone, verification_id, gateway.code(phone))
        assert verified.status_code == 200, verified.text
        identified = await client.post(
            "/api/experience/identification", json={"verificationId": verification_id}
        )
        assert identified.status_code == 201, identified.text
        assert (await client.post("/api/experience/submit")).status_code == 200
