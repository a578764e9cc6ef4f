"""GatewayAPI delivery status notifications: the JWT in `X-Gwapi-Signature` checked against the
published vector, the status vocabulary, and `callback_url` on the wire."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from tests.connectors.providers.test_gatewayapi import CONFIG, message, send_recorded

from phoneauth.connectors.providers.gatewayapi import FACTORY, GatewayApiConfig
from phoneauth.connectors.receipts import (
    CallbackRequest,
    DeliveryReport,
    MalformedReportError,
    ReportedStatus,
    ReportSignatureError,
    ReportsNotSupportedError,
)

CALLBACK = "https://id.example.com/api/connectors/row-1/delivery-reports"
# providers.md §8.6: nickdnk/gatewayapi-php tests/DeliveryStatusWebhookTest.php, secret `secret`.
VECTOR = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6MjM4MTcwMywibXNpc2RuIjo0NTQyNjA5MDQ1LCJ0aW1lIjox"
    "NTIyNzY0MDYyLCJzdGF0dXMiOiJERUxJVkVSRUQiLCJlcnJvciI6ImVycm9yIHRleHQiLCJjb2RlIjoiZXJyb3IgY29k"
    "ZSIsImNvdW50cnlfcHJlZml4Ijo0NSwiY291bnRyeV9jb2RlIjoiREsiLCJjaGFyZ2Vfc3RhdHVzIjoiQVVUSE9SSVpF"
    "RCIsInVzZXJyZWYiOiJhIHJlZmVyZW5jZSJ9.LgbbsxAj61SQhDA0A3dGlcT8OZN2UJsTgBiifNHEeh8"
)
VECTOR_CLAIMS = {
    "id": 2381703,
    "msisdn": 4542609045,
    "time": 1522764062,
    "status": "DELIVERED",
    "error": "error text",
    "code": "error code",
    "country_prefix": 45,
    "country_code": "DK",
    "charge_status": "AUTHORIZED",
    "userref": "a reference",
}


LONG = "a-webhook-token-of-32-bytes-or-more"
VECTOR_TOKEN = "secret"


def config(token: str = VECTOR_TOKEN) -> GatewayApiConfig:
    return FACTORY.parse_config({**CONFIG, "webhookToken": token})


def notification(
    claims: dict[str, Any], token: str | None, body: bytes | None = None
) -> CallbackRequest:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["x-gwapi-signature"] = token
    return CallbackRequest(
        "POST", CALLBACK, headers, json.dumps(claims).encode() if body is None else body
    )


def read(request: CallbackRequest, cfg: GatewayApiConfig | None = None) -> list[DeliveryReport]:
    return list(FACTORY.receipts.read(cfg or config(), request))  # type: ignore[union-attr]


def test_the_published_signed_notification_is_read() -> None:
    reports = read(notification(VECTOR_CLAIMS, VECTOR))
    assert reports == [DeliveryReport("2381703", ReportedStatus.DELIVERED, "error code")]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("SCHEDULED", ReportedStatus.ACCEPTED),
        ("ENROUTE", ReportedStatus.SENT),
        ("BUFFERED", ReportedStatus.SENT),
        ("ACCEPTED", ReportedStatus.SENT),
        ("DELIVERED", ReportedStatus.DELIVERED),
        ("EXPIRED", ReportedStatus.UNDELIVERED),
        ("UNDELIVERABLE", ReportedStatus.UNDELIVERED),
        ("REJECTED", ReportedStatus.FAILED),
        ("SKIPPED", ReportedStatus.FAILED),
    ],
)
def test_statuses_are_normalised(status: str, expected: ReportedStatus) -> None:
    claims = {"id": 1000001, "msisdn": 4587654321, "time": 1450000000, "status": status}
    token = jwt.encode(claims, LONG, algorithm="HS256")
    assert read(notification(claims, token), config(LONG)) == [
        DeliveryReport("1000001", expected, status)
    ]


def test_a_missing_or_wrong_jwt_is_refused() -> None:
    forged = jwt.encode({**VECTOR_CLAIMS, "status": "DELIVERED"}, LONG, algorithm="HS256")
    unsigned = jwt.encode(VECTOR_CLAIMS, None, algorithm="none")
    for token in (None, "garbage", forged, unsigned, VECTOR[:-2] + "xx"):
        with pytest.raises(ReportSignatureError) as refused:
            read(notification(VECTOR_CLAIMS, token))
        assert refused.value.status == 401


def test_another_webhook_token_does_not_verify() -> None:
    with pytest.raises(ReportSignatureError):
        read(notification(VECTOR_CLAIMS, VECTOR), config("other-token"))


def test_without_a_webhook_token_no_reports_are_taken() -> None:
    with pytest.raises(ReportsNotSupportedError):
        read(notification(VECTOR_CLAIMS, VECTOR), FACTORY.parse_config(CONFIG))


@pytest.mark.parametrize(
    "body",
    [b"{garbage", b"[]", json.dumps({**VECTOR_CLAIMS, "id": 1}).encode()],
    ids=["garbage", "array", "another-message"],
)
def test_a_body_that_is_not_the_signed_notification_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedReportError) as refused:
        read(notification(VECTOR_CLAIMS, VECTOR, body))
    assert refused.value.status == 400


def test_a_signed_notification_without_a_known_status_is_malformed() -> None:
    claims = {"id": 7, "status": "TELEPORTED"}
    with pytest.raises(MalformedReportError):
        read(notification(claims, jwt.encode(claims, LONG, algorithm="HS256")), config(LONG))


async def test_callback_url_goes_on_the_wire_only_with_a_webhook_token() -> None:
    sms = message()
    with_callback = type(sms)(sms.to, sms.usage_type, sms.payload, status_callback=CALLBACK)
    _, without_token = await send_recorded(CONFIG, with_callback)
    _, without_url = await send_recorded({**CONFIG, "webhookToken": "t"}, sms)
    _, both = await send_recorded({**CONFIG, "webhookToken": "t"}, with_callback)
    plain = (
        b'{"sender":"ExampleSMS","message":"Your code 654321",'
        b'"recipients":[{"msisdn":"4512345678"}]}'
    )
    assert without_token[0].content == plain
    assert without_url[0].content == plain
    # providers.md §3.1: `callback_url` overrides the account's default webhook.
    assert both[0].content == plain[:-1] + (
        b',"callback_url":"https://id.example.com/api/connectors/row-1/delivery-reports"}'
    )
