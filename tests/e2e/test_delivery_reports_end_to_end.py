"""Delivery receipts end to end over real HTTP: phoneauth under uvicorn behind a public URL, a
fake Twilio on its own socket, and status callbacks posted to the running app as Twilio signs
them. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import jwt
import pytest
from tests import local_http
from tests.delivery_fakes import FakeSmsAero, RecordingProvider, served
from tests.e2e.conftest import AUTH_TOKEN, Deployment, FakeTwilio
from tests.e2e.test_codes_end_to_end import PHONE, TWILIO, twilio_config

from phoneauth.connectors.providers.gatewayapi import FACTORY as gatewayapi_factory
from phoneauth.connectors.providers.twilio.receipts import signature
from phoneauth.connectors.providers.vonage import FACTORY as vonage_factory
from phoneauth.connectors.providers.vonage import signing as vonage_signing
from phoneauth.settings import Settings

# What Twilio is told and signs: the service's public URL, which a proxy maps to the server.
PUBLIC_URL = "https://id.example.test"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings) -> Settings:
    return module_settings.model_copy(update={"public_url": PUBLIC_URL})


@pytest.fixture
async def admin(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=30
    ) as client:
        yield client


@pytest.fixture
async def provider(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    """Twilio's side: no admin key, only its signature."""
    async with local_http.async_client(base_url=deployment.url, timeout=30) as client:
        yield client


async def sent_sms(admin: httpx.AsyncClient, twilio: FakeTwilio) -> tuple[str, Any]:
    """The Twilio connector created over the API, a code sent; its id and the SMS Twilio got."""
    created = await admin.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": twilio_config(twilio)}
    )
    assert created.status_code == 200, created.text
    answer = await admin.post("/api/verification-codes", json={"phone": PHONE})
    assert answer.status_code == 204, answer.text
    return str(created.json()["id"]), twilio.messages[-1]


def callback(
    path: str, sid: str, status: str, *, token: str = AUTH_TOKEN, error_code: str | None = None
) -> dict[str, Any]:
    """A status callback as Twilio posts it to `PUBLIC_URL + path`, signed with `token`."""
    params = [("AccountSid", "AC" + "e2e0" * 8), ("MessageSid", sid), ("MessageStatus", status)]
    params += [("SmsSid", sid), ("SmsStatus", status), ("To", PHONE)]
    if error_code:
        params.append(("ErrorCode", error_code))
    headers = {
        "Content-Type": FORM,
        "X-Twilio-Signature": signature(token, PUBLIC_URL + path, params),
    }
    return {"content": urlencode(params), "headers": headers}


async def log_row(admin: httpx.AsyncClient, **filters: str) -> dict[str, Any]:
    rows = (await admin.get("/api/message-logs", params=filters)).json()
    assert len(rows) == 1, rows
    row: dict[str, Any] = rows[0]
    return row


def report_path(connector_id: str, tenant: str | None = None) -> str:
    prefix = f"/t/{tenant}" if tenant else ""
    return f"{prefix}/api/connectors/{connector_id}/delivery-reports"


async def test_signed_callbacks_move_the_log_row_forward_only(
    admin: httpx.AsyncClient, provider: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    connector_id, sms = await sent_sms(admin, twilio)
    path = report_path(connector_id)
    # The callback URL went to Twilio on the message, built from the public URL.
    assert sms.status_callback == PUBLIC_URL + path
    row = await log_row(admin)
    assert (row["providerMessageId"], row["deliveryStatus"]) == (sms.sid, "accepted")

    sent = await provider.post(path, **callback(path, sms.sid, "sent"))
    assert (sent.status_code, sent.json()) == (200, {"applied": 1})
    assert (await log_row(admin))["deliveryStatus"] == "sent"
    delivered = await provider.post(path, **callback(path, sms.sid, "delivered"))
    assert delivered.status_code == 200, delivered.text
    row = await log_row(admin, deliveryStatus="delivered")
    assert (row["deliveryStatus"], row["deliveryCode"]) == ("delivered", "delivered")
    assert isinstance(row["deliveryLatencyMs"], int)
    assert row["deliveryLatencyMs"] >= 0

    # A replay, and a report of an earlier state arriving late: 4xx, nothing changes.
    for status in ("delivered", "sent", "failed"):
        late = await provider.post(path, **callback(path, sms.sid, status, error_code="30008"))
        assert (late.status_code, late.json()["code"]) == (409, "delivery_report.outdated")
    assert await log_row(admin) == row


async def test_bad_callbacks_are_refused_and_change_nothing(
    admin: httpx.AsyncClient, provider: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    connector_id, sms = await sent_sms(admin, twilio)
    path = report_path(connector_id)
    before = await log_row(admin)
    good = callback(path, sms.sid, "undelivered", error_code="30003")

    unsigned = await provider.post(path, content=good["content"], headers={"Content-Type": FORM})
    forged = await provider.post(path, **callback(path, sms.sid, "undelivered", token="guess"))
    for refused in (unsigned, forged):
        assert (refused.status_code, refused.json()["code"]) == (
            401,
            "delivery_report.invalid_signature",
        )
    garbage = await provider.post(
        path, content=b"\xff\x00garbage", headers={**good["headers"], "Content-Type": FORM}
    )
    assert (garbage.status_code, garbage.json()["code"]) == (400, "delivery_report.invalid_body")
    unknown = await provider.post(path, **callback(path, "SM" + "0" * 32, "delivered"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "delivery_report.unknown_message")
    # Bodies past PHONEAUTH_MAX_BODY_BYTES (64 KiB) are refused before they are read whole.
    padded = good["content"] + "&Padding=" + "x" * 70_000
    too_big = await provider.post(path, content=padded, headers=good["headers"])
    assert too_big.status_code == 413
    missing = report_path("no-such-connector")
    nowhere = await provider.post(missing, **callback(missing, sms.sid, "delivered"))
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "connector.not_found")
    assert await log_row(admin) == before

    # Still good for the genuine report afterwards.
    accepted = await provider.post(path, **good)
    assert accepted.status_code == 200, accepted.text
    row = await log_row(admin)
    assert (row["deliveryStatus"], row["deliveryCode"]) == ("undelivered", "30003")


async def test_another_tenants_path_cannot_reach_a_connector(
    admin: httpx.AsyncClient, provider: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    connector_id, sms = await sent_sms(admin, twilio)
    made = await admin.post("/api/tenants", json={"id": "acme", "name": "Acme"})
    assert made.status_code in (200, 201), made.text
    before = await log_row(admin)
    # Signed exactly as Twilio would sign a callback to that path: still not acme's connector.
    path = report_path(connector_id, tenant="acme")
    answer = await provider.post(path, **callback(path, sms.sid, "delivered"))
    assert (answer.status_code, answer.json()["code"]) == (404, "connector.not_found")
    assert await log_row(admin) == before


async def test_a_connector_without_reports_refuses_callbacks(
    admin: httpx.AsyncClient, provider: httpx.AsyncClient
) -> None:
    created = await admin.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text
    path = report_path(created.json()["id"])
    answer = await provider.post(path, **callback(path, "SM1", "delivered"))
    assert (answer.status_code, answer.json()["code"]) == (404, "delivery_report.not_supported")


@pytest.fixture(scope="module")
def smsaero() -> Iterator[FakeSmsAero]:
    with served(FakeSmsAero()) as fake:
        yield fake


async def test_polled_statuses_reach_the_log(
    admin: httpx.AsyncClient, deployment: Deployment, smsaero: FakeSmsAero
) -> None:
    config = {
        "email": "ops@example.com",
        "apiKey": "a" * 32,
        "senderName": "SMS Aero",
        "templates": [{"usageType": "Generic", "content": "Your code is {{code}}"}],
        "endpoint": smsaero.url + "/v2",
    }
    created = await admin.post(
        "/api/connectors",
        json={"connectorId": "smsaero-short-message-service", "config": config},
    )
    assert created.status_code == 200, created.text
    assert (await admin.post("/api/verification-codes", json={"phone": PHONE})).status_code == 204
    row = await log_row(admin)
    assert row["deliveryStatus"] == "accepted"
    smsaero.statuses[int(row["providerMessageId"])] = 1
    # The lifespan's poller runs once a minute; one round, run on the app's own loop.
    assert deployment.run(deployment.services.delivery_polling.poll_once()) == 1
    row = await log_row(admin)
    assert (row["deliveryStatus"], row["deliveryCode"]) == ("delivered", "delivery")


@pytest.fixture(scope="module")
def vonage() -> Iterator[RecordingProvider]:
    with served(RecordingProvider(vonage_factory.provider_fake)) as fake:  # type: ignore[arg-type]
        yield fake


@pytest.fixture(scope="module")
def gatewayapi() -> Iterator[RecordingProvider]:
    with served(RecordingProvider(gatewayapi_factory.provider_fake)) as fake:  # type: ignore[arg-type]
        yield fake


async def create(admin: httpx.AsyncClient, factory_id: str, config: dict[str, Any]) -> str:
    created = await admin.post(
        "/api/connectors", json={"connectorId": factory_id, "config": config}
    )
    assert created.status_code == 200, created.text
    assert (await admin.post("/api/verification-codes", json={"phone": PHONE})).status_code == 204
    return str(created.json()["id"])


async def test_vonage_receipts_come_back_as_signed_get_queries(
    admin: httpx.AsyncClient, provider: httpx.AsyncClient, vonage: RecordingProvider
) -> None:
    secret = "vonage-signature-secret"
    config = {
        "apiKey": "abcd1234",
        "apiSecret": "s3cr3tS3cr3t",
        "brandName": "Acme",
        "templates": [{"usageType": "Generic", "content": "Your code is {{code}}"}],
        "endpoint": vonage.url,
        "signatureSecret": secret,
        "signatureMethod": "sha256",
    }
    connector_id = await create(admin, "vonage-sms", config)
    path = report_path(connector_id)
    sent = dict(parse_qsl(vonage.seen[-1].content.decode()))
    assert sent["callback"] == PUBLIC_URL + path
    message_id = (await log_row(admin))["providerMessageId"]

    dlr = {"msisdn": PHONE[1:], "to": "Acme", "messageId": message_id, "status": "delivered"}
    dlr |= {"err-code": "0", "message-timestamp": "2026-12-06 03:00:00", "timestamp": "1796526000"}
    dlr |= {"nonce": "6c2f1f1e-2f5b-4d43-9e0a-6a1f5e0c1d2b"}
    signed = {**dlr, "sig": vonage_signing.sign(dlr, secret, "sha256")}
    forged = {**signed, "status": "failed"}
    refused = await provider.get(path, params=forged)
    assert (refused.status_code, refused.json()["code"]) == (
        401,
        "delivery_report.invalid_signature",
    )
    answer = await provider.get(path, params=signed)
    assert answer.status_code == 200, answer.text
    row = await log_row(admin)
    assert (row["deliveryStatus"], row["deliveryCode"]) == ("delivered", "delivered")


async def test_gatewayapi_reports_come_back_with_their_jwt(
    admin: httpx.AsyncClient, provider: httpx.AsyncClient, gatewayapi: RecordingProvider
) -> None:
    token = "gatewayapi-webhook-token-0123456789abcdef"
    config = {
        "endpoint": gatewayapi.url + "/rest/mtsms",
        "apiToken": "gw-token",
        "sender": "ExampleSMS",
        "templates": [{"usageType": "Generic", "content": "Your code {{code}}"}],
        "webhookToken": token,
    }
    connector_id = await create(admin, "gatewayapi-sms", config)
    path = report_path(connector_id)
    assert json.loads(gatewayapi.seen[-1].content)["callback_url"] == PUBLIC_URL + path
    message_id = int((await log_row(admin))["providerMessageId"])

    claims = {"id": message_id, "msisdn": int(PHONE[1:]), "time": 1796526000}
    claims |= {"status": "UNDELIVERABLE", "code": "0x1013", "country_code": "DE"}
    body = json.dumps(claims).encode()
    headers = {"Content-Type": "application/json"}
    forged = jwt.encode(claims, "not-the-token-" + "x" * 32, algorithm="HS256")
    refused = await provider.post(
        path, content=body, headers={**headers, "X-Gwapi-Signature": forged}
    )
    assert refused.status_code == 401
    signed = jwt.encode(claims, token, algorithm="HS256")
    answer = await provider.post(
        path, content=body, headers={**headers, "X-Gwapi-Signature": signed}
    )
    assert answer.status_code == 200, answer.text
    row = await log_row(admin)
    assert (row["deliveryStatus"], row["deliveryCode"]) == ("undelivered", "0x1013")


async def test_a_standby_connectors_reports_reach_its_own_rows(
    admin: httpx.AsyncClient, provider: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    """The active provider is unreachable, a standby Twilio takes the SMS: the callback URL on
    the message names the standby connector, and its signed report moves that attempt's row."""
    unreachable = {**twilio_config(twilio), "endpoint": "http://127.0.0.1:9"}
    active = await admin.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": unreachable}
    )
    assert active.status_code == 200, active.text
    standby = await admin.post(
        "/api/sms-routing/connectors", json={"connectorId": TWILIO, "config": twilio_config(twilio)}
    )
    assert standby.status_code == 201, standby.text
    standby_id = standby.json()["id"]
    rules = await admin.put("/api/sms-routing", json={"fallback": [standby_id]})
    assert rules.status_code == 200, rules.text

    answer = await admin.post("/api/verification-codes", json={"phone": PHONE})
    assert answer.status_code == 204, answer.text
    assert answer.headers["Phoneauth-Sms-Connector"] == standby_id
    sms = twilio.messages[-1]
    path = report_path(standby_id)
    assert sms.status_callback == PUBLIC_URL + path

    delivered = await provider.post(path, **callback(path, sms.sid, "delivered"))
    assert (delivered.status_code, delivered.json()) == (200, {"applied": 1})
    rows = (await admin.get("/api/message-logs")).json()
    by_attempt = {row["attempt"]: row for row in rows}
    assert by_attempt[1]["status"] == "failed"
    assert by_attempt[1]["deliveryStatus"] is None
    assert (by_attempt[2]["connectorId"], by_attempt[2]["deliveryStatus"]) == (
        standby_id,
        "delivered",
    )
    # The active connector's path does not take the standby's messages.
    wrong = report_path(active.json()["id"])
    refused = await provider.post(wrong, **callback(wrong, sms.sid, "failed"))
    assert (refused.status_code, refused.json()["code"]) == (404, "delivery_report.unknown_message")
