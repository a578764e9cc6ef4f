"""SMS Aero connector: exact request bytes, Logto config, error mapping, faults, SDK oracle."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import email_validator
import httpx
import pytest
import smsaero  # type: ignore[import-untyped]
from tests import local_http

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
from phoneauth.connectors.providers.smsaero import FACTORY
from phoneauth.connectors.testing import recording_client, run_conformance

API_KEY = "a" * 32
CONFIG: dict[str, Any] = {
    "email": "ops@example.com",
    "apiKey": API_KEY,
    "senderName": "SMS Aero",
    "templates": [
        {"usageType": "Generic", "content": "Your code {{code}}"},
        {"usageType": "SignIn", "content": "Sign-in code: {{ code }}"},
    ],
}
# providers.md §8.7: Basic auth of `ops@example.com:` + 32 x `a`.
AUTHORIZATION = "Basic b3BzQGV4YW1wbGUuY29tOmFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"
SUCCESS = {
    "success": True,
    "data": {
        "id": 12345,
        "from": "SMS Aero",
        "number": "79031234567",
        "text": "Your code 654321",
        "status": 8,
        "extendStatus": "moderation",
        "channel": "FREE SIGN",
        "cost": 5.49,
        "dateCreate": 1719119523,
        "dateSend": 1719119523,
    },
    "message": None,
}


def message(usage_type: UsageType = UsageType.GENERIC) -> SmsMessage:
    return SmsMessage(to="+79031234567", usage_type=usage_type, payload={"code": "654321"})


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
    assert str(request.url) == "https://gate.smsaero.ru/v2/sms/send"
    assert request.headers["authorization"] == AUTHORIZATION
    assert request.headers["content-type"] == "application/json"
    assert (
        request.content == b'{"number":"79031234567","sign":"SMS Aero","text":"Your code 654321"}'
    )
    assert result.provider_message_id == "12345"
    assert result.details == {
        "status": 8,
        "extend_status": "moderation",
        "channel": "FREE SIGN",
        "cost": 5.49,
    }


async def test_sign_in_message_uses_its_own_template() -> None:
    _, seen = await send_recorded(CONFIG, message(UsageType.SIGN_IN))

    assert str(seen[0].url) == "https://gate.smsaero.ru/v2/sms/send"
    assert seen[0].headers["authorization"] == AUTHORIZATION
    assert seen[0].content == (
        b'{"number":"79031234567","sign":"SMS Aero","text":"Sign-in code: 654321"}'
    )


async def test_cyrillic_text_is_sent_as_utf8_and_register_falls_back_to_generic() -> None:
    config = {**CONFIG, "templates": [{"usageType": "Generic", "content": "Ваш код {{code}}"}]}
    _, seen = await send_recorded(config, message(UsageType.REGISTER))

    expected = '{"number":"79031234567","sign":"SMS Aero","text":"Ваш код 654321"}'
    assert seen[0].content == expected.encode("utf-8")


async def test_success_details_never_echo_the_text_with_the_code() -> None:
    result, _ = await send_recorded(CONFIG, message())

    assert "654321" not in repr(result)


# 2. Config

# logto.md §2.2: `email`, `apiKey`, `senderName`, `templates` (the four base usage types).
LOGTO_CONFIG: dict[str, Any] = {
    "email": "ops@example.com",
    "apiKey": "0123456789abcdef0123456789abcdef",
    "senderName": "SMSAero",
    "templates": [
        {
            "usageType": "SignIn",
            "content": "Your Logto sign-in verification code is {{code}}. "
            "The code will remain active for 10 minutes.",
        },
        {
            "usageType": "Register",
            "content": "Your Logto sign-up verification code is {{code}}. "
            "The code will remain active for 10 minutes.",
        },
        {
            "usageType": "ForgotPassword",
            "content": "Your Logto password change verification code is {{code}}. "
            "The code will remain active for 10 minutes.",
        },
        {
            "usageType": "Generic",
            "content": "Your Logto verification code is {{code}}. "
            "The code will remain active for 10 minutes.",
        },
    ],
}


def test_a_logto_config_validates_unchanged_and_round_trips() -> None:
    config = FACTORY.parse_config(LOGTO_CONFIG)

    assert config.email == "ops@example.com"
    assert config.api_key.get_secret_value() == "0123456789abcdef0123456789abcdef"
    assert config.sender_name == "SMSAero"
    assert config.endpoint is None
    assert dump_config(config, reveal_secrets=True) == LOGTO_CONFIG


def test_an_invalid_config_names_every_bad_field() -> None:
    bad = {"email": "ops.example.com", "senderName": "", "templates": CONFIG["templates"]}

    with pytest.raises(InvalidConfigError) as info:
        FACTORY.parse_config(bad)

    fields = [problem["field"] for problem in info.value.details["errors"]]  # type: ignore[attr-defined]
    assert fields == ["email", "apiKey", "senderName"]
    assert "email" in info.value.message


@pytest.mark.parametrize("email", ["ops@example", "@example.com", "ops@ex ample.com", "a@b@c.de"])
def test_email_must_look_like_an_email_address(email: str) -> None:
    with pytest.raises(InvalidConfigError, match="email"):
        FACTORY.parse_config({**CONFIG, "email": email})


# 3. Errors as SMS Aero sends them


def refusal(text: str, **extra: Any) -> dict[str, Any]:
    return {"success": False, "data": None, "message": text, **extra}


ERRORS = [
    # The credential failure: HTTP 401, v2 envelope (providers.md §2.3).
    (401, refusal("Your request was made with invalid credentials."), AuthorizationFailedError),
    # v1 shape still mapped by the official SDK (`SmsAeroNoMoneyException`); sent with HTTP 200.
    (200, {"result": "no credits"}, UsageLimitExceededError),
    (200, refusal("Insufficient balance"), UsageLimitExceededError),
    (400, refusal("Недостаточно средств на балансе"), UsageLimitExceededError),
    (200, refusal("Sign is not approved"), InvalidConfigError),
    (200, {"result": "reject", "reason": "Неверная подпись отправителя"}, InvalidConfigError),
    (400, refusal("Invalid phone number"), InvalidRequestParametersError),
    (
        400,
        refusal("Validation error", errors={"number": ["is invalid"]}),
        InvalidRequestParametersError,
    ),
    (429, refusal("Too many requests"), RateLimitExceededError),
    # The HTTP status wins over the words: throttling and outages are not the recipient's fault.
    (429, refusal("Slow down, number 79031234567"), RateLimitExceededError),
]


@pytest.mark.parametrize(("status", "body", "expected"), ERRORS)
async def test_refusals_map_to_the_specific_error(
    status: int, body: dict[str, Any], expected: type[ConnectorError]
) -> None:
    with pytest.raises(expected) as info:
        await send_recorded(CONFIG, message(), httpx.Response(status, json=body))

    details = info.value.details
    assert details["http_status"] == status
    assert details["provider"] == "smsaero-short-message-service"
    said = body.get("message") or body.get("reason")
    if said:
        assert details["provider_message"] == said
        assert said in info.value.message
    if "result" in body:
        assert details["provider_code"] == body["result"]
    assert API_KEY not in repr(info.value.to_dict())
    assert "654321" not in repr(info.value.to_dict())


async def test_success_false_with_http_200_is_a_failure_even_when_unexplained() -> None:
    with pytest.raises(ConnectorError) as info:
        await send_recorded(CONFIG, message(), httpx.Response(200, json=refusal("Unknown error")))

    assert type(info.value) is ConnectorError
    assert info.value.details["provider_message"] == "Unknown error"


@pytest.mark.parametrize("text", ["Internal Server Error", "Phone gateway unavailable"])
async def test_server_error_is_a_provider_failure(text: str) -> None:
    response = httpx.Response(500, json=refusal(text))
    with pytest.raises(ConnectorError) as info:
        await send_recorded(CONFIG, message(), response)

    assert type(info.value) is ConnectorError
    assert info.value.details["http_status"] == 500


async def test_success_without_an_id_is_an_invalid_response() -> None:
    body = {"success": True, "data": {"status": 8}, "message": None}
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
        ("https://gate.smsaero.org/v2", "https://gate.smsaero.org/v2/sms/send"),
        ("https://gate.smsaero.net/v2/", "https://gate.smsaero.net/v2/sms/send"),
        ("https://gate.smsaero.net", "https://gate.smsaero.net/v2/sms/send"),
    ],
)
async def test_endpoint_override_changes_the_url(endpoint: str, url: str) -> None:
    _, seen = await send_recorded({**CONFIG, "endpoint": endpoint}, message())

    assert str(seen[0].url) == url


# 7. Oracle: the official SDK (smsaero-api) against a local recorder


class Recorder:
    """A loopback HTTP server that keeps every request and answers with one canned JSON body."""

    def __init__(self, status: int, body: object) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sdk_class(monkeypatch: pytest.MonkeyPatch) -> type[Any]:
    """The official client, made to work offline (providers.md §9, both workarounds)."""
    # Workaround 1: the constructor validates the email with a DNS lookup.
    monkeypatch.setattr(email_validator, "CHECK_DELIVERABILITY", False)

    class LoopbackSmsAero(smsaero.SmsAero):  # type: ignore[misc]
        # Workaround 2: the SDK always starts with https and never retries a single gate over http.
        def build_url(self, proto: str, selector: str, gate: str, page: int | None = None) -> str:
            return str(super().build_url("http", selector, gate, page))

    return LoopbackSmsAero


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(200, SUCCESS)
    yield server
    server.close()


async def test_oracle_sdk_and_connector_send_the_same_request(
    sdk_class: type[Any], recorder: Recorder
) -> None:
    sdk = sdk_class("ops@example.com", API_KEY, url_gate=f"@127.0.0.1:{recorder.port}/v2/")
    sdk_data = await asyncio.to_thread(sdk.send_sms, 79031234567, "Your code 654321")
    config = {**CONFIG, "endpoint": f"http://127.0.0.1:{recorder.port}/v2"}
    async with local_http.async_client() as client:
        result = await FACTORY.build(config, client).send(message())

    (sdk_method, sdk_path, sdk_headers, sdk_body), (method, path, headers, body) = recorder.seen
    assert (method, path) == (sdk_method, sdk_path) == ("POST", "/v2/sms/send")
    assert headers["Authorization"] == sdk_headers["Authorization"] == AUTHORIZATION
    assert headers["Content-Type"] == sdk_headers["Content-Type"] == "application/json"
    ours, theirs = json.loads(body), json.loads(sdk_body)
    # The SDK sends the number as a JSON integer, Logto and we as a digit string; both are accepted.
    assert ours["number"] == str(theirs["number"]) == "79031234567"
    assert ours["sign"] == theirs["sign"] == "SMS Aero"
    assert ours["text"] == theirs["text"]
    assert result.provider_message_id == str(sdk_data["id"]) == "12345"


async def test_oracle_sdk_and_connector_both_reject_success_false_with_http_200(
    sdk_class: type[Any],
) -> None:
    server = Recorder(200, refusal("Sign is not approved"))
    try:
        sdk = sdk_class("ops@example.com", API_KEY, url_gate=f"@127.0.0.1:{server.port}/v2/")
        with pytest.raises(smsaero.SmsAeroException, match="Sign is not approved"):
            await asyncio.to_thread(sdk.send_sms, 79031234567, "Your code 654321")
        config = {**CONFIG, "endpoint": f"http://127.0.0.1:{server.port}"}
        async with local_http.async_client() as client:
            with pytest.raises(InvalidConfigError, match="Sign is not approved"):
                await FACTORY.build(config, client).send(message())
    finally:
        server.close()
    assert len(server.seen) == 2
