"""GatewayAPI connector: exact request bytes, documented example, Logto config, errors, faults."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from phoneauth.connectors.base import SmsMessage, UsageType
from phoneauth.connectors.config import dump_config
from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidConfigError,
    InvalidRequestParametersError,
    InvalidResponseError,
    RateLimitExceededError,
    UsageLimitExceededError,
)
from phoneauth.connectors.providers.gatewayapi import FACTORY
from phoneauth.connectors.testing import recording_client, run_conformance

TOKEN = "gw-token-123"
CONFIG: dict[str, Any] = {
    "endpoint": "https://gatewayapi.com/rest/mtsms",
    "apiToken": TOKEN,
    "sender": "ExampleSMS",
    "templates": [
        {"usageType": "Generic", "content": "Your code {{code}}"},
        {"usageType": "SignIn", "content": "Sign-in code: {{ code }}"},
    ],
}
# providers.md §8.7: base64(token + ":"), the trailing colon included.
AUTHORIZATION = "Basic Z3ctdG9rZW4tMTIzOg=="
# gatewayapi-docs `docs/rest.rst`, "Example response" of POST /rest/mtsms.
SUCCESS = {
    "ids": [421332671],
    "usage": {"countries": {"DK": 1}, "currency": "DKK", "total_cost": 0.12},
}
INCIDENT = "d8127429-fa0c-4316-b1f2-e610c3958f43"


def message(usage_type: UsageType = UsageType.GENERIC, to: str = "+4512345678") -> SmsMessage:
    return SmsMessage(to=to, usage_type=usage_type, payload={"code": "654321"})


async def send_recorded(
    config: dict[str, Any], sms: SmsMessage, response: httpx.Response | None = None
) -> tuple[Any, list[httpx.Request]]:
    answer = response or httpx.Response(200, json=SUCCESS)
    client, seen = recording_client(lambda request: answer)
    async with client:
        result = await FACTORY.build(config, client).send(sms)
    return result, seen


# 1. The exact request


async def test_generic_message_is_the_documented_json_post() -> None:
    result, seen = await send_recorded(CONFIG, message(UsageType.GENERIC))

    assert len(seen) == 1
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://gatewayapi.com/rest/mtsms"
    assert request.headers["authorization"] == AUTHORIZATION
    assert request.headers["content-type"] == "application/json"
    assert request.content == (
        b'{"sender":"ExampleSMS","message":"Your code 654321",'
        b'"recipients":[{"msisdn":"4512345678"}]}'
    )
    assert result.provider_message_id == "421332671"
    assert result.details == {"usage": SUCCESS["usage"]}


async def test_sign_in_message_uses_its_own_template() -> None:
    _, seen = await send_recorded(CONFIG, message(UsageType.SIGN_IN))

    assert str(seen[0].url) == "https://gatewayapi.com/rest/mtsms"
    assert seen[0].headers["authorization"] == AUTHORIZATION
    assert seen[0].content == (
        b'{"sender":"ExampleSMS","message":"Sign-in code: 654321",'
        b'"recipients":[{"msisdn":"4512345678"}]}'
    )


async def test_unicode_text_is_sent_as_utf8_and_register_falls_back_to_generic() -> None:
    config = {**CONFIG, "templates": [{"usageType": "Generic", "content": "Din kode: {{code}} ✓"}]}
    _, seen = await send_recorded(config, message(UsageType.REGISTER, to="004915112345678"))

    expected = (
        '{"sender":"ExampleSMS","message":"Din kode: 654321 ✓",'
        '"recipients":[{"msisdn":"4915112345678"}]}'
    )
    assert seen[0].content == expected.encode("utf-8")


async def test_request_matches_the_documented_token_example_byte_for_byte() -> None:
    # https://github.com/onlinecity/gatewayapi-docs docs/rest.rst, "Code Examples", PHP cURL:
    # CURLOPT_USERPWD "<token>:" and json_encode(['sender' => 'ExampleSMS', 'message' =>
    # 'Hello world', 'recipients' => [['msisdn' => '4527128516'], …]]) (one recipient kept here).
    config = {
        "endpoint": "https://gatewayapi.com/rest/mtsms",
        "apiToken": "Go-Create-An-API-token",
        "sender": "ExampleSMS",
        "templates": [{"usageType": "Generic", "content": "Hello world"}],
    }
    _, seen = await send_recorded(config, message(to="+4527128516"))

    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://gatewayapi.com/rest/mtsms"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        b"Go-Create-An-API-token:"
    ).decode("ascii")
    assert request.headers["authorization"] == "Basic R28tQ3JlYXRlLUFuLUFQSS10b2tlbjo="
    assert request.headers["content-type"] == "application/json"
    assert request.content == (
        b'{"sender":"ExampleSMS","message":"Hello world","recipients":[{"msisdn":"4527128516"}]}'
    )


async def test_request_carries_the_fields_of_the_documented_basic_auth_example() -> None:
    # https://github.com/onlinecity/gatewayapi-docs docs/rest.rst, "HTTP Basic Authentication".
    documented = json.loads(
        '{ "message": "Hello World", "recipients": [ { "msisdn": 4512345678 } ] }'
    )
    config = {**CONFIG, "templates": [{"usageType": "Generic", "content": "Hello World"}]}
    _, seen = await send_recorded(config, message())

    sent = json.loads(seen[0].content)
    assert sent["message"] == documented["message"]
    # The docs type msisdn as a string and show an integer; Logto and we send the digit string.
    assert [r["msisdn"] for r in sent["recipients"]] == [
        str(r["msisdn"]) for r in documented["recipients"]
    ]


# 2. Config


# logto.md §2.3: `endpoint` (form default), `apiToken`, `sender`, `templates` (4 base types).
LOGTO_CONFIG: dict[str, Any] = {
    "endpoint": "https://gatewayapi.com/rest/mtsms",
    "apiToken": "c2VjcmV0LWdhdGV3YXlhcGktdG9rZW4",
    "sender": "ExampleSMS",
    "templates": [
        {
            "usageType": usage,
            "content": f"Your Logto {what} verification code is {{{{code}}}}. "
            "The code will remain active for 10 minutes.",
        }
        for usage, what in [
            ("SignIn", "sign-in"),
            ("Register", "sign-up"),
            ("ForgotPassword", "password change"),
            ("Generic", "verification"),
        ]
    ],
}


def test_a_logto_config_validates_unchanged_and_round_trips() -> None:
    config = FACTORY.parse_config(LOGTO_CONFIG)

    assert config.endpoint == "https://gatewayapi.com/rest/mtsms"
    assert config.api_token.get_secret_value() == "c2VjcmV0LWdhdGV3YXlhcGktdG9rZW4"
    assert config.sender == "ExampleSMS"
    assert config.templates[0].content.startswith(
        "Your Logto sign-in verification code is {{code}}."
    )
    assert dump_config(config, reveal_secrets=True) == LOGTO_CONFIG


def test_endpoint_is_optional_and_defaults_to_the_global_platform() -> None:
    config = FACTORY.parse_config({k: v for k, v in CONFIG.items() if k != "endpoint"})

    assert config.endpoint == "https://gatewayapi.com/rest/mtsms"


def test_an_invalid_config_names_every_bad_field() -> None:
    bad = {"endpoint": "gatewayapi.eu/rest/mtsms", "sender": "", "templates": []}

    with pytest.raises(InvalidConfigError) as info:
        FACTORY.parse_config(bad)

    errors = info.value.details["errors"]
    assert isinstance(errors, list)
    assert [problem["field"] for problem in errors] == [
        "endpoint",
        "apiToken",
        "sender",
        "templates",
    ]
    assert "apiToken" in info.value.message


# 3. Errors as GatewayAPI sends them (docs `rest.rst` error example, `errors.rst` code table)


def refusal(code: str, text: str, *variables: str) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "incident_uuid": INCIDENT, "message": text}
    if variables:
        body["variables"] = list(variables)
    return body


ERRORS = [
    # The documented error example, verbatim.
    (
        403,
        refusal("0x0213", "Unauthorized IP-address: %1", "1.2.3.4"),
        AuthorizationFailedError,
        "Unauthorized IP-address: 1.2.3.4",
    ),
    (401, refusal("0x0229", "Invalid token"), AuthorizationFailedError, "Invalid token"),
    (401, refusal("0x0211", "Invalid password"), AuthorizationFailedError, "Invalid password"),
    (403, refusal("0x0216", "Insufficient credit"), UsageLimitExceededError, "Insufficient credit"),
    # The number stays out of the message: the placeholder is kept.
    (
        403,
        refusal("0x0215", "MSISDN %1 blacklisted", "4512345678"),
        InvalidRequestParametersError,
        "MSISDN %1 blacklisted",
    ),
    (
        403,
        refusal("0x0214", "Temporary blacklist for MSISDN %1 with hash %2", "4512345678", "ab12"),
        InvalidRequestParametersError,
        "Temporary blacklist for MSISDN %1 with hash %2",
    ),
    (
        403,
        refusal("0x0217", "Unauthorized destination: country %1", "DK"),
        InvalidRequestParametersError,
        "Unauthorized destination: country DK",
    ),
    (
        403,
        refusal("0x021D", "SMS not enabled for account"),
        InvalidConfigError,
        "SMS not enabled for account",
    ),
    (
        422,
        refusal("0x0312", "Messages filtered based on content"),
        InvalidConfigError,
        "Messages filtered based on content",
    ),
]


@pytest.mark.parametrize(("status", "body", "expected", "text"), ERRORS)
async def test_refusals_map_to_the_specific_error(
    status: int, body: dict[str, Any], expected: type[ConnectorError], text: str
) -> None:
    with pytest.raises(expected) as info:
        await send_recorded(CONFIG, message(), httpx.Response(status, json=body))

    error = info.value
    assert type(error) is expected
    assert error.details["provider_code"] == body["code"]
    assert error.details["provider_message"] == text
    assert error.details["http_status"] == status
    assert error.details["incident_uuid"] == INCIDENT
    assert error.details["provider"] == "gatewayapi-sms"
    assert text in error.message
    assert "4512345678" not in repr(error.to_dict())
    assert TOKEN not in repr(error.to_dict())


async def test_lower_case_hex_codes_are_recognised() -> None:
    response = httpx.Response(403, json=refusal("0x021d", "SMS not enabled for account"))
    with pytest.raises(InvalidConfigError):
        await send_recorded(CONFIG, message(), response)


async def test_unmapped_code_falls_back_with_the_providers_words() -> None:
    body = refusal("0x0222", "Missing required parameter %1", "message")
    with pytest.raises(ConnectorError) as info:
        await send_recorded(CONFIG, message(), httpx.Response(400, json=body))

    assert type(info.value) is ConnectorError
    assert info.value.details["provider_code"] == "0x0222"
    assert info.value.details["provider_message"] == "Missing required parameter message"


async def test_401_without_a_code_is_an_authorization_failure() -> None:
    body = {"incident_uuid": INCIDENT, "message": "Invalid API key or signature"}
    with pytest.raises(AuthorizationFailedError) as info:
        await send_recorded(CONFIG, message(), httpx.Response(401, json=body))

    assert "provider_code" not in info.value.details
    assert info.value.details["incident_uuid"] == INCIDENT


async def test_throttling_is_a_rate_limit_even_with_a_code() -> None:
    response = httpx.Response(429, json=refusal("0x0216", "Insufficient credit"))
    with pytest.raises(RateLimitExceededError):
        await send_recorded(CONFIG, message(), response)
    with pytest.raises(RateLimitExceededError):
        await send_recorded(CONFIG, message(), httpx.Response(429, text="Too Many Requests"))


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, json={"incident_uuid": INCIDENT, "message": "Internal error"}),
        httpx.Response(500, json=refusal("0x0215", "MSISDN %1 blacklisted", "4512345678")),
        httpx.Response(503, text="<html>Service Unavailable</html>"),
    ],
)
async def test_server_errors_are_provider_failures(response: httpx.Response) -> None:
    with pytest.raises(ConnectorError) as info:
        await send_recorded(CONFIG, message(), response)

    assert type(info.value) is ConnectorError
    assert info.value.details["http_status"] == response.status_code


@pytest.mark.parametrize("body", [{"ids": []}, {"usage": {}}, {"ids": "421332671"}])
async def test_success_without_an_id_is_an_invalid_response(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidResponseError):
        await send_recorded(CONFIG, message(), httpx.Response(200, json=body))


# 4. Timeouts and refused connections: run by the conformance kit for every connector.


# 5. Conformance kit


async def test_conformance() -> None:
    await run_conformance(FACTORY)


# 6. Endpoint override


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("https://gatewayapi.eu/rest/mtsms", "https://gatewayapi.eu/rest/mtsms"),
        ("https://gatewayapi.eu/rest/mtsms/", "https://gatewayapi.eu/rest/mtsms"),
        ("https://gatewayapi.eu", "https://gatewayapi.eu/rest/mtsms"),
    ],
)
async def test_endpoint_override_changes_the_url(endpoint: str, url: str) -> None:
    _, seen = await send_recorded({**CONFIG, "endpoint": endpoint}, message())

    assert str(seen[0].url) == url
    assert seen[0].headers["authorization"] == AUTHORIZATION
