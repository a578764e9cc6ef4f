"""Messages that fit, over real HTTP: phoneauth under uvicorn, a fake Twilio on a socket.

The autofill settings go in through `PATCH /api/tenant/settings`, the SMS body is read where the
fake Twilio received it, and the message log's size figures through `GET /api/message-logs`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment, FakeTwilio
from tests.e2e.test_codes_end_to_end import (
    TWILIO,
    message_logs,
    patch_settings,
    send,
    twilio_config,
)
from tests.resend_support import NO_COOLDOWN


@pytest.fixture
async def client(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=30
    ) as client:
        # One number gets several codes in a row here: no wait between them.
        assert (await client.patch("/api/tenant/settings", json=NO_COOLDOWN)).status_code == 200
        yield client


@pytest.fixture
async def connector(client: httpx.AsyncClient, twilio: FakeTwilio) -> dict[str, Any]:
    """The Twilio connector with the e2e template, created over the Management API."""
    created = await client.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": twilio_config(twilio)}
    )
    assert created.status_code == 200, created.text
    body: dict[str, Any] = created.json()
    return body


TEXT = "Your phoneauth code is {code}."  # the Generic template of the e2e Twilio connector


async def last_body(client: httpx.AsyncClient, twilio: FakeTwilio) -> str:
    response = await send(client)
    assert response.status_code == 204, response.text
    return twilio.messages[-1].body


async def test_autofill_lines_reach_the_provider_and_the_log_counts_them(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, object]
) -> None:
    plain = await last_body(client, twilio)
    code = plain.removeprefix("Your phoneauth code is ").removesuffix(".")
    assert plain == TEXT.format(code=code)  # settings unset: the text as the template has it

    settings = await patch_settings(
        client, {"webOtpDomain": "ID.Example.com", "androidAppHash": "FA+9qCX9VSu"}
    )
    assert (settings["webOtpDomain"], settings["androidAppHash"]) == (
        "id.example.com",
        "FA+9qCX9VSu",
    )
    body = await last_body(client, twilio)
    code = body.split("#")[-1]
    assert body == f"{TEXT.format(code=code)}\nFA+9qCX9VSu\n@id.example.com #{code}"

    newest, older = (await message_logs(client))[:2]
    assert (newest["encoding"], newest["segments"], newest["characters"]) == (
        "GSM-7",
        1,
        len(body),
    )
    assert (older["encoding"], older["segments"], older["characters"]) == ("GSM-7", 1, len(plain))

    # An emoji in the template: UCS-2, and past 70 units two parts.
    templates = [{"usageType": "Generic", "content": "Ваш код {{code}} 🔐 " + "ж" * 40}]
    updated = await client.patch(
        f"/api/connectors/{connector['id']}",
        json={"config": {**twilio_config(twilio), "templates": templates}},
    )
    assert updated.status_code == 200, updated.text
    long_body = await last_body(client, twilio)
    entry = (await message_logs(client))[0]
    assert (entry["encoding"], entry["segments"]) == ("UCS-2", 2)
    assert entry["characters"] == len(long_body.encode("utf-16-le")) // 2


async def test_bad_autofill_settings_are_refused_and_null_clears_them(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, object]
) -> None:
    for changes, field in [
        ({"webOtpDomain": "https://id.example.com/sign-in"}, "webOtpDomain"),
        ({"webOtpDomain": "id.example.com:8443"}, "webOtpDomain"),
        ({"androidAppHash": "tooShort"}, "androidAppHash"),
        ({"androidAppHash": "FA+9qCX9VSu!"}, "androidAppHash"),
    ]:
        refused = await client.patch("/api/tenant/settings", json=changes)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "guard.invalid_input"
        assert [e["field"] for e in refused.json()["details"]["errors"]] == [field]
    await patch_settings(client, {"webOtpDomain": "id.example.com"})
    assert (await last_body(client, twilio)).endswith(
        f"\n@id.example.com #{twilio.messages[-1].body[-6:]}"
    )
    settings = await patch_settings(client, {"webOtpDomain": None, "androidAppHash": ""})
    assert (settings["webOtpDomain"], settings["androidAppHash"]) == (None, None)
    assert "\n" not in await last_body(client, twilio)
