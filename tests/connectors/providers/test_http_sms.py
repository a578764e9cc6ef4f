from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import httpx
import pytest

from phoneauth.connectors import (
    ConnectorError,
    InvalidConfigError,
    RateLimitExceededError,
    SmsMessage,
    UsageType,
)
from phoneauth.connectors.providers.http_sms import (
    FACTORY,
    SIGNATURE_HEADER,
    sign,
    verify_signature,
)
from phoneauth.connectors.testing import recording_client, run_conformance

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SIGN_IN = SmsMessage(
    to="+4915112345678",
    usage_type=UsageType.SIGN_IN,
    payload={"code": "123456", "locale": "de"},
    ip="203.0.113.7",
)
GENERIC = SmsMessage(to="4915112345678", payload={"code": "000000"})


async def _send(
    config: dict[str, object], message: SmsMessage, answer: httpx.Response | None = None
) -> httpx.Request:
    client, seen = recording_client(
        lambda request: answer or httpx.Response(200, json={"id": "gw-1"})
    )
    async with client:
        await FACTORY.build(config, client, clock=lambda: NOW).send(message)
    return seen[0]


async def test_posts_logtos_json_with_the_authorization_header() -> None:
    request = await _send(
        {"endpoint": "https://gw.example.com/sms", "authorization": "Bearer t0k"}, SIGN_IN
    )
    assert request.method == "POST"
    assert str(request.url) == "https://gw.example.com/sms"
    assert request.headers["authorization"] == "Bearer t0k"
    assert request.headers["content-type"] == "application/json"
    assert request.content == (
        b'{"to":"4915112345678","type":"SignIn","payload":{"code":"123456","locale":"de"},"ip":"203.0.113.7"}'
    )
    assert SIGNATURE_HEADER.lower() not in request.headers


async def test_generic_message_without_ip_or_authorization() -> None:
    request = await _send({"endpoint": "https://gw.example.com/sms"}, GENERIC)
    assert request.content == b'{"to":"4915112345678","type":"Generic","payload":{"code":"000000"}}'
    assert "authorization" not in request.headers


async def test_signing_secret_adds_a_verifiable_hmac_sha256_header() -> None:
    request = await _send(
        {"endpoint": "https://gw.example.com/sms", "signingSecret": "shh"}, GENERIC
    )
    timestamp = int(NOW.timestamp())
    expected = hmac.new(
        b"shh", f"{timestamp}.".encode() + request.content, hashlib.sha256
    ).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == f"t={timestamp},v1={expected}"
    header = request.headers[SIGNATURE_HEADER]
    assert verify_signature("shh", header, request.content, now=timestamp + 10)
    assert not verify_signature("shh", header, request.content + b" ", now=timestamp)
    assert not verify_signature("other", header, request.content, now=timestamp)
    assert not verify_signature("shh", header, request.content, now=timestamp + 301)
    assert not verify_signature("shh", "garbage", request.content, now=timestamp)
    assert sign("shh", timestamp, request.content) == header


@pytest.mark.parametrize(
    ("answer", "message_id"),
    [
        (httpx.Response(200, json={"id": "gw-9"}), "gw-9"),
        (httpx.Response(202, json={"messageId": 42}), "42"),
        (httpx.Response(204), None),
        (httpx.Response(200, text="OK"), None),
    ],
)
async def test_any_2xx_is_accepted_and_an_id_is_kept(
    answer: httpx.Response, message_id: str | None
) -> None:
    client, _ = recording_client(lambda request: answer)
    async with client:
        result = await FACTORY.build({"endpoint": "https://gw.example.com"}, client).send(GENERIC)
    assert result.provider_message_id == message_id


@pytest.mark.parametrize(
    ("answer", "error", "status"),
    [
        (httpx.Response(429, text="slow down"), RateLimitExceededError, 429),
        (httpx.Response(400, text="unknown number"), ConnectorError, 502),
        (httpx.Response(503, text="maintenance"), ConnectorError, 502),
    ],
)
async def test_gateway_refusals_carry_its_answer(
    answer: httpx.Response, error: type[ConnectorError], status: int
) -> None:
    client, _ = recording_client(lambda request: answer)
    async with client:
        with pytest.raises(error) as info:
            await FACTORY.build({"endpoint": "https://gw.example.com"}, client).send(GENERIC)
    assert type(info.value) is error
    assert info.value.status == status
    assert info.value.details["provider_message"] == answer.text
    assert info.value.details["http_status"] == answer.status_code


def test_endpoint_is_required() -> None:
    with pytest.raises(InvalidConfigError) as info:
        FACTORY.parse_config({"authorization": "Bearer x"})
    assert [problem["field"] for problem in info.value.details["errors"]] == ["endpoint"]  # type: ignore[attr-defined]


async def test_conformance() -> None:
    await run_conformance(FACTORY)
