"""The Twilio connector: wire format, Logto config compatibility, error mapping, SDK oracle."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from tests import local_http

from phoneauth.connectors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidConfigError,
    InvalidRequestParametersError,
    InvalidResponseError,
    RateLimitExceededError,
    SmsMessage,
    UsageType,
    dump_config,
)
from phoneauth.connectors.providers import twilio
from phoneauth.connectors.testing import recording_client, run_conformance

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "authtoken"
SERVICE_SID = "MG" + "b" * 32
MESSAGE_SID = "SM" + "c" * 32
CODE = "864209"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
# providers.md §8.7 "Basic-auth strings": Twilio `ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:authtoken`
BASIC_AUTH = "Basic QUNhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYTphdXRodG9rZW4="

CONFIG: dict[str, Any] = {
    "accountSID": ACCOUNT_SID,
    "authToken": AUTH_TOKEN,
    "fromMessagingServiceSID": SERVICE_SID,
    "templates": [
        {"usageType": "Generic", "content": "Your verification code is {{code}}."},
        {"usageType": "SignIn", "content": "Sign-in code für {{ code }} & more: {{code}}"},
    ],
}

# The config Logto's console builds from its form defaults (logto.md §2.1), untouched.
LOGTO_CONFIG: dict[str, Any] = {
    "accountSID": ACCOUNT_SID,
    "authToken": AUTH_TOKEN,
    "fromMessagingServiceSID": SERVICE_SID,
    "disableRiskCheck": False,
    "templates": [
        {
            "usageType": usage,
            "content": f"Your Logto {text} is {{{{code}}}}. The code will remain "
            "active for 10 minutes.",
        }
        for usage, text in [
            ("SignIn", "sign-in verification code"),
            ("Register", "sign-up verification code"),
            ("ForgotPassword", "password change verification code"),
            ("OrganizationInvitation", "organization invitation code"),
            ("Generic", "verification code"),
            ("UserPermissionValidation", "permission validation code"),
            ("BindNewIdentifier", "new identifier binding code"),
            ("MfaVerification", "MFA verification code"),
            ("BindMfa", "2-step verification setup code"),
        ]
    ],
}


def created(request: httpx.Request) -> httpx.Response:
    """Twilio's 201 for a Messaging Service send (providers.md §1.2)."""
    return httpx.Response(
        201,
        json={
            "sid": MESSAGE_SID,
            "account_sid": ACCOUNT_SID,
            "messaging_service_sid": SERVICE_SID,
            "status": "accepted",
            "num_segments": "0",
            "to": "+4915112345678",
            "from": None,
            "body": "Your verification code is 864209.",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
        },
    )


def message(usage_type: UsageType = UsageType.GENERIC, to: str = "4915112345678") -> SmsMessage:
    return SmsMessage(to=to, usage_type=usage_type, payload={"code": CODE})


async def send(
    config: dict[str, Any], handler: Any, sms: SmsMessage | None = None
) -> tuple[Any, list[httpx.Request]]:
    client, seen = recording_client(handler)
    async with client:
        result = await twilio.FACTORY.build(config, client).send(sms or message())
    return result, seen


# --- 1. the exact request -------------------------------------------------------------------


async def test_generic_message_is_the_documented_form_post() -> None:
    result, seen = await send(CONFIG, created)

    assert len(seen) == 1
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == f"https://api.twilio.com{MESSAGES_PATH}"
    assert request.headers["Authorization"] == BASIC_AUTH
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    # Logto's fields in Logto's order; `To` keeps its `+` (Logto PR #8377, Twilio error 21211).
    assert request.content == (
        b"To=%2B4915112345678&MessagingServiceSid=MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        b"&Body=Your+verification+code+is+864209.&RiskCheck=enable"
    )
    assert result.provider_message_id == MESSAGE_SID
    assert result.details == {"status": "accepted"}


async def test_sign_in_message_uses_its_template_and_the_risk_check_switch() -> None:
    config = {**CONFIG, "disableRiskCheck": True}

    _, seen = await send(config, created, message(UsageType.SIGN_IN, to="+4915112345678"))

    request = seen[0]
    assert str(request.url) == f"https://api.twilio.com{MESSAGES_PATH}"
    assert request.headers["Authorization"] == BASIC_AUTH
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.content == (
        b"To=%2B4915112345678&MessagingServiceSid=MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        b"&Body=Sign-in+code+f%C3%BCr+864209+%26+more%3A+864209&RiskCheck=disable"
    )


async def test_usage_type_without_template_falls_back_to_generic() -> None:
    _, seen = await send(CONFIG, created, message(UsageType.MFA_VERIFICATION))

    assert parse_qs(seen[0].content.decode())["Body"] == ["Your verification code is 864209."]


# --- 2. configuration -----------------------------------------------------------------------


def test_logto_config_validates_unchanged() -> None:
    config = twilio.FACTORY.parse_config(LOGTO_CONFIG)

    assert config.account_sid == ACCOUNT_SID
    assert config.auth_token.get_secret_value() == AUTH_TOKEN
    assert config.from_messaging_service_sid == SERVICE_SID
    assert config.disable_risk_check is False
    assert len(config.templates) == 9
    assert dump_config(config, reveal_secrets=True) == LOGTO_CONFIG


def test_logto_config_without_optional_keys_defaults_to_risk_check_on() -> None:
    raw = {key: value for key, value in LOGTO_CONFIG.items() if key != "disableRiskCheck"}

    assert twilio.FACTORY.parse_config(raw).disable_risk_check is False


def test_logto_1_5_host_key_validates_and_is_normalised() -> None:
    # connector-twilio-sms 1.5.0 added an optional hostname-only `host` (lower-cased before use).
    config = twilio.FACTORY.parse_config({**LOGTO_CONFIG, "host": "API.DUBLIN.IE1.TWILIO.COM"})

    assert config.host == "api.dublin.ie1.twilio.com"
    assert config.base_url == "https://api.dublin.ie1.twilio.com"


def bad_fields(error: InvalidConfigError) -> list[str]:
    problems: Any = error.details["errors"]
    return sorted(problem["field"] for problem in problems)


def test_invalid_config_names_every_bad_field() -> None:
    raw = {**CONFIG, "disableRiskCheck": "sometimes", "fromMessagingServiceSID": ""}
    del raw["authToken"]

    with pytest.raises(InvalidConfigError) as info:
        twilio.FACTORY.parse_config(raw)

    assert bad_fields(info.value) == ["authToken", "disableRiskCheck", "fromMessagingServiceSID"]
    assert "authToken" in info.value.message


@pytest.mark.parametrize(
    "host",
    [
        "https://api.twilio.com",
        "api.twilio.com:443",
        "api.twilio.com/path",
        "api.twilio.com.example.com",
        "api.example.com",
        "127.0.0.1",
        "api..twilio.com",
        "api.twilio.com\n",
    ],
)
def test_host_must_be_a_twilio_api_hostname(host: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        twilio.FACTORY.parse_config({**CONFIG, "host": host})

    assert bad_fields(info.value) == ["host"]


def test_endpoint_wins_over_logto_host() -> None:
    raw = {**CONFIG, "host": "api.twilio.com", "endpoint": "https://api.dublin.ie1.twilio.com"}

    assert twilio.FACTORY.parse_config(raw).base_url == "https://api.dublin.ie1.twilio.com"


def test_unknown_key_is_refused() -> None:
    with pytest.raises(InvalidConfigError, match="fromNumber"):
        twilio.FACTORY.parse_config({**CONFIG, "fromNumber": "+15005550006"})


# --- 3. provider errors ---------------------------------------------------------------------


def twilio_error(status: int, code: int, text: str) -> httpx.Response:
    """Twilio's error document (providers.md §1.3)."""
    return httpx.Response(
        status,
        json={
            "code": code,
            "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


ERROR_CASES = [
    (twilio_error(401, 20003, "Authenticate"), AuthorizationFailedError, 20003),
    (twilio_error(429, 20429, "Too Many Requests"), RateLimitExceededError, 20429),
    (
        twilio_error(400, 21211, "The 'To' number +4915112345678 is not a valid phone number."),
        InvalidRequestParametersError,
        21211,
    ),
    (
        twilio_error(400, 21614, "'To' number is not a valid mobile number"),
        InvalidRequestParametersError,
        21614,
    ),
    (
        twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"),
        InvalidRequestParametersError,
        21610,
    ),
    (
        twilio_error(
            400, 21608, "The 'to' phone number provided is not yet verified for this account."
        ),
        InvalidConfigError,
        21608,
    ),
    (
        twilio_error(
            400,
            21408,
            "Permission to send an SMS has not been enabled for the region indicated by the "
            "'To' number: +4915112345678.",
        ),
        InvalidConfigError,
        21408,
    ),
    (twilio_error(400, 21705, "The Messaging Service Sid is invalid."), InvalidConfigError, 21705),
    (twilio_error(404, 20404, "The requested resource was not found"), ConnectorError, 20404),
    (twilio_error(400, 21602, "Message body is required."), ConnectorError, 21602),
    (twilio_error(500, 20500, "Internal Server Error"), ConnectorError, 20500),
    # A 5xx is Twilio's own failure, whatever code it carries.
    (twilio_error(503, 20003, "Authenticate"), ConnectorError, 20003),
    # Errors in a 2xx: Twilio does not send them, but an error document is never a success.
    (twilio_error(200, 21211, "Invalid 'To' Phone Number"), InvalidRequestParametersError, 21211),
]


@pytest.mark.parametrize(
    ("response", "error_class", "provider_code"),
    ERROR_CASES,
    ids=[f"{case[0].status_code}-{case[2]}" for case in ERROR_CASES],
)
async def test_twilio_errors_map_to_connector_errors(
    response: httpx.Response, error_class: type[ConnectorError], provider_code: int
) -> None:
    with pytest.raises(ConnectorError) as info:
        await send(CONFIG, lambda request: response)

    error = info.value
    assert type(error) is error_class
    assert error.details["provider_code"] == provider_code
    assert error.details["http_status"] == response.status_code
    assert error.details["provider"] == "twilio-short-message-service"
    assert error.details["more_info"] == f"https://www.twilio.com/docs/errors/{provider_code}"
    text = response.json()["message"]
    assert error.details["provider_message"] == text
    assert text in error.message
    # Mapped codes get Twilio's own wording; the rest go through the kit's fallback.
    mapped = error.message.startswith(f"Twilio refused the message (error {provider_code}): ")
    assert mapped is (error_class is not ConnectorError)
    assert AUTH_TOKEN not in repr(error.to_dict())
    assert CODE not in repr(error.to_dict())


@pytest.mark.parametrize(
    ("response", "error_class"),
    [
        (httpx.Response(201, json={"status": "accepted"}), InvalidResponseError),
        (httpx.Response(201, json={"sid": None, "body": f"code {CODE}"}), InvalidResponseError),
        (httpx.Response(200, text="<html>captive portal</html>"), InvalidResponseError),
        (httpx.Response(401, text="Unauthorized"), AuthorizationFailedError),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), ConnectorError),
        (
            httpx.Response(307, headers={"Location": "https://attacker.example/collect"}),
            ConnectorError,
        ),
    ],
    ids=["201-no-sid", "201-null-sid", "200-html", "401-text", "502-html", "307-redirect"],
)
async def test_answers_that_are_not_a_message_sid_fail(
    response: httpx.Response, error_class: type[ConnectorError]
) -> None:
    with pytest.raises(ConnectorError) as info:
        await send(CONFIG, lambda request: response)

    assert type(info.value) is error_class
    assert info.value.details["http_status"] == response.status_code
    assert CODE not in repr(info.value.to_dict())


# --- 4. timeouts and refused connections ----------------------------------------------------


# --- 5. the shared conformance kit ----------------------------------------------------------


async def test_conformance() -> None:
    await run_conformance(twilio.FACTORY)


async def test_provider_fake_answers_like_twilio() -> None:
    assert twilio.FACTORY.provider_fake is not None
    result, seen = await send(CONFIG, twilio.FACTORY.provider_fake)

    assert len(seen) == 1

    assert result.provider_message_id.startswith("SM")
    assert len(result.provider_message_id) == 34
    assert result.details == {"status": "accepted"}


# --- 6. regional endpoint -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "base"),
    [
        ({"endpoint": "https://api.dublin.ie1.twilio.com"}, "https://api.dublin.ie1.twilio.com"),
        ({"endpoint": "https://api.dublin.ie1.twilio.com/"}, "https://api.dublin.ie1.twilio.com"),
        ({"host": "api.dublin.ie1.twilio.com"}, "https://api.dublin.ie1.twilio.com"),
        ({"host": "api.sydney.au1.twilio.com"}, "https://api.sydney.au1.twilio.com"),
        ({}, "https://api.twilio.com"),
    ],
)
async def test_regional_override_changes_only_the_host(override: dict[str, str], base: str) -> None:
    _, seen = await send({**CONFIG, **override}, created)

    assert str(seen[0].url) == base + MESSAGES_PATH
    assert seen[0].headers["Authorization"] == BASIC_AUTH


async def test_account_sid_cannot_change_the_api_path() -> None:
    _, seen = await send({**CONFIG, "accountSID": "AC1/../../x?y"}, created)

    assert seen[0].url.raw_path == b"/2010-04-01/Accounts/AC1%2F..%2F..%2Fx%3Fy/Messages.json"


# --- 7. the official SDK as an oracle -------------------------------------------------------


class Recorder:
    """A real loopback HTTP server that records requests and answers with one canned reply."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorder.seen.append(
                    (self.command, self.path, dict(self.headers), self.rfile.read(length))
                )
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder(201, created(httpx.Request("POST", "http://x")).json())
    yield server
    server.close()


def sdk_client(base_url: str) -> Any:
    from twilio.rest import Client

    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = base_url
    return client


async def test_official_sdk_sends_what_we_send(recorder: Recorder) -> None:
    sdk = sdk_client(recorder.url)
    sdk_message = await asyncio.to_thread(
        sdk.messages.create,
        to="+4915112345678",
        messaging_service_sid=SERVICE_SID,
        body="Your verification code is 864209.",
        risk_check="enable",
    )
    async with local_http.async_client() as client:
        config = {**CONFIG, "endpoint": recorder.url}
        result = await twilio.FACTORY.build(config, client).send(message())

    (sdk_method, sdk_path, sdk_headers, sdk_body), (method, path, headers, body) = recorder.seen
    assert (method, path) == (sdk_method, sdk_path) == ("POST", MESSAGES_PATH)
    for name in ("Authorization", "Content-Type", "Accept"):
        assert headers[name] == sdk_headers[name], name
    # Same fields and values; the SDK orders them differently (RiskCheck before the service).
    assert parse_qs(body.decode(), strict_parsing=True) == parse_qs(
        sdk_body.decode(), strict_parsing=True
    )
    assert set(parse_qs(body.decode())) == {"To", "MessagingServiceSid", "Body", "RiskCheck"}
    assert result.provider_message_id == sdk_message.sid == MESSAGE_SID


async def test_official_sdk_reads_the_same_error_code() -> None:
    from twilio.base.exceptions import TwilioRestException

    server = Recorder(
        400,
        {
            "code": 21211,
            "message": "The 'To' number +4915112345678 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
    )
    try:
        sdk = sdk_client(server.url)
        with pytest.raises(TwilioRestException) as sdk_error:
            await asyncio.to_thread(
                sdk.messages.create,
                to="+4915112345678",
                messaging_service_sid=SERVICE_SID,
                body="x",
            )
        async with local_http.async_client() as client:
            connector = twilio.FACTORY.build({**CONFIG, "endpoint": server.url}, client)
            with pytest.raises(InvalidRequestParametersError) as ours:
                await connector.send(message())
    finally:
        server.close()

    assert ours.value.details["provider_code"] == sdk_error.value.code == 21211
    assert ours.value.details["http_status"] == sdk_error.value.status == 400
