from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

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
        (httpx.Response(429, json={"message": "slow down"}), RateLimitExceededError, 429),
        (httpx.Response(400, json={"error": "unknown number"}), ConnectorError, 502),
        (httpx.Response(503, json={"message": "maintenance"}), ConnectorError, 502),
    ],
)
async def test_gateway_refusals_carry_its_json_message(
    answer: httpx.Response, error: type[ConnectorError], status: int
) -> None:
    client, _ = recording_client(lambda request: answer)
    async with client:
        with pytest.raises(error) as info:
            await FACTORY.build({"endpoint": "https://gw.example.com"}, client).send(GENERIC)
    assert type(info.value) is error
    assert info.value.status == status
    said = answer.json()
    assert info.value.details["provider_message"] == said.get("message", said.get("error"))
    assert info.value.details["http_status"] == answer.status_code


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, text="root:x:0:0:root:/root:/bin/bash"),
        httpx.Response(401, html="<html><body>internal admin panel</body></html>"),
        httpx.Response(400, json={"token": "internal-token", "detail": "x"}),
        httpx.Response(400, json=["internal", "list"]),
    ],
)
async def test_a_body_that_is_not_a_json_message_is_never_passed_on(
    answer: httpx.Response,
) -> None:
    client, _ = recording_client(lambda request: answer)
    async with client:
        with pytest.raises(ConnectorError) as info:
            await FACTORY.build({"endpoint": "https://gw.example.com"}, client).send(GENERIC)
    assert "provider_message" not in info.value.details
    assert info.value.details["http_status"] == answer.status_code
    for secret in ("root:x", "admin panel", "internal"):
        assert secret not in str(info.value.to_dict())


async def test_a_json_message_is_cut_and_loses_its_control_characters() -> None:
    answer = httpx.Response(400, json={"message": "bad\r\nX-Injected: 1 " + "y" * 500})
    client, _ = recording_client(lambda request: answer)
    async with client:
        with pytest.raises(ConnectorError) as info:
            await FACTORY.build({"endpoint": "https://gw.example.com"}, client).send(GENERIC)
    said = info.value.details["provider_message"]
    assert isinstance(said, str)
    assert said.startswith("badX-Injected: 1 y")
    assert len(said) == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer X\r\nX-Injected: 1",
        "Bearer X\n",
        "Bearer \x00",
        "Bearer\tX",
        "Bearer é",
        "Bearer 中",
    ],
)
def test_an_authorization_that_is_not_printable_ascii_is_refused(authorization: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        FACTORY.parse_config({"endpoint": "https://gw.example.com", "authorization": authorization})
    assert [problem["field"] for problem in info.value.details["errors"]] == ["authorization"]  # type: ignore[attr-defined]
    assert authorization not in str(info.value.to_dict())


async def test_an_unsafe_authorization_that_reaches_a_send_is_a_coded_error() -> None:
    """A config stored before the check (built here without validation) never reaches the wire."""
    for value in ("Bearer X\r\nX-Injected: 1", "Bearer \x00", "Bearer é中"):
        config = FACTORY.config_model.model_construct(
            endpoint="https://gw.example.com", authorization=SecretStr(value), signing_secret=None
        )
        client, seen = recording_client(lambda request: httpx.Response(200, json={"id": "x"}))
        async with client:
            with pytest.raises(InvalidConfigError) as info:
                await FACTORY.build(config, client).send(GENERIC)
        assert info.value.status == 400
        assert value not in str(info.value.to_dict())
        assert seen == []


def test_endpoint_is_required() -> None:
    with pytest.raises(InvalidConfigError) as info:
        FACTORY.parse_config({"authorization": "Bearer x"})
    assert [problem["field"] for problem in info.value.details["errors"]] == ["endpoint"]  # type: ignore[attr-defined]


async def test_conformance() -> None:
    await run_conformance(FACTORY)
