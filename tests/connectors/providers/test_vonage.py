"""Vonage SMS connector: exact wire format, HTTP-200 errors, faults, SDK oracle, `sig` vectors."""

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
import requests
from requests.adapters import HTTPAdapter
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
from phoneauth.connectors.providers import vonage
from phoneauth.connectors.providers.vonage import FACTORY, signing
from phoneauth.connectors.testing import recording_client, run_conformance

KEY, SECRET = "abcd1234", "s3cr3tS3cr3t"
# providers.md §8.7: Basic auth string for abcd1234:s3cr3tS3cr3t
BASIC = "Basic YWJjZDEyMzQ6czNjcjN0UzNjcjN0"
CODE = "864209"

CONFIG: dict[str, Any] = {
    "apiKey": KEY,
    "apiSecret": SECRET,
    "brandName": "Acme",
    "templates": [
        {"usageType": "Generic", "content": "Your code is {{code}}"},
        {"usageType": "SignIn", "content": "Sign in with {{ code }}, valid 10 min."},
    ],
}

# Logto's vonageSmsConfigGuard shape with the connector's default texts (logto.md §2, §2.7).
LOGTO_CONFIG: dict[str, Any] = {
    "apiKey": "a1b2c3d4",
    "apiSecret": "Abcdefgh12345678",
    "brandName": "Logto",
    "templates": [
        {
            "usageType": usage,
            "content": f"Your Logto {what} code is {{{{code}}}}. "
            "The code will remain active for 10 minutes.",
        }
        for usage, what in [
            ("SignIn", "sign-in verification"),
            ("Register", "sign-up verification"),
            ("ForgotPassword", "password change verification"),
            ("Generic", "verification"),
        ]
    ],
}


def message(usage: UsageType = UsageType.GENERIC, to: str = "+4915112345678") -> SmsMessage:
    return SmsMessage(to=to, usage_type=usage, payload={"code": CODE, "locale": "en"})


def accepted(*ids: str) -> dict[str, Any]:
    """Vonage's success body (developer.vonage.com troubleshooting-sms), one entry per part."""
    parts = [
        {
            "to": "4915112345678",
            "message-id": message_id,
            "status": "0",
            "remaining-balance": f"15.5{index}590000",
            "message-price": "0.03330000",
            "network": "26202",
        }
        for index, message_id in enumerate(ids or ("0C000000217B7F02",))
    ]
    return {"message-count": str(len(parts)), "messages": parts}


def refused(status: str, text: str) -> dict[str, Any]:
    return {"message-count": "1", "messages": [{"status": status, "error-text": text}]}


def answer(status: int, body: Any) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    return handler


async def send(config: dict[str, Any], sms: SmsMessage, handler: Any = None) -> Any:
    client, seen = recording_client(handler or answer(200, accepted()))
    async with client:
        result = await FACTORY.build(config, client).send(sms)
    return result, seen


# 1. The exact request ------------------------------------------------------------------------


async def test_generic_request_is_the_documented_form() -> None:
    result, seen = await send(CONFIG, message(UsageType.GENERIC))
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://rest.nexmo.com/sms/json"
    assert request.headers["authorization"] == BASIC
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"
    assert request.content == b"to=4915112345678&from=Acme&text=Your+code+is+864209"
    assert result.provider_message_id == "0C000000217B7F02"


async def test_sign_in_request_uses_its_template_and_keeps_the_secret_out_of_the_body() -> None:
    _, seen = await send(CONFIG, message(UsageType.SIGN_IN))
    request = seen[0]
    assert request.headers["authorization"] == BASIC
    assert request.content == (
        b"to=4915112345678&from=Acme&text=Sign+in+with+864209%2C+valid+10+min."
    )
    assert b"api_secret" not in request.content
    assert SECRET.encode() not in request.content


@pytest.mark.parametrize(
    ("text", "unicode"),
    [
        ("Grüße! Ihr Code {{code}} [€0] {ok}", False),  # basic table + extension table
        ("Ваш код {{code}}", True),
        ("Code {{code}} \u2013 valid", True),  # the en dash is not in GSM 03.38
        ("你的验证码是{{code}}", True),
        ("Code {{code}} 🔐", True),
    ],
)
async def test_type_unicode_only_for_text_outside_gsm7(text: str, unicode: bool) -> None:
    config = {**CONFIG, "templates": [{"usageType": "Generic", "content": text}]}
    _, seen = await send(config, message())
    form = parse_qs(seen[0].content.decode())
    assert form["text"] == [text.replace("{{code}}", CODE)]
    assert form.get("type") == (["unicode"] if unicode else None)


async def test_unicode_body_bytes() -> None:
    config = {**CONFIG, "templates": [{"usageType": "Generic", "content": "Ваш код {{code}}"}]}
    _, seen = await send(config, message())
    assert seen[0].content == (
        b"to=4915112345678&from=Acme&text=%D0%92%D0%B0%D1%88+%D0%BA%D0%BE%D0%B4+864209&type=unicode"
    )


async def test_numeric_sender_loses_its_plus() -> None:
    _, seen = await send({**CONFIG, "brandName": "+447700900000"}, message())
    assert parse_qs(seen[0].content.decode())["from"] == ["447700900000"]


# 2. Config ------------------------------------------------------------------------------------


def test_logto_config_validates_unchanged() -> None:
    config = FACTORY.parse_config(LOGTO_CONFIG)
    assert config.api_key == "a1b2c3d4"
    assert config.api_secret.get_secret_value() == "Abcdefgh12345678"
    assert config.endpoint is None
    assert dump_config(config, reveal_secrets=True) == LOGTO_CONFIG
    assert "Abcdefgh12345678" not in json.dumps(dump_config(config))


def test_invalid_config_names_every_bad_field() -> None:
    bad = {
        "apiKey": "k",
        "brandName": "",
        "templates": [{"usageType": "Login", "content": "x"}],
        "endpoint": "ftp://rest.nexmo.com",
    }
    with pytest.raises(InvalidConfigError) as info:
        FACTORY.parse_config(bad)
    fields = {problem["field"] for problem in info.value.details["errors"]}  # type: ignore[attr-defined]
    assert {"apiSecret", "brandName", "templates.0.usageType", "endpoint"} <= fields
    assert "apiSecret" in str(info.value)


def test_secret_is_write_only_in_the_schema() -> None:
    schema = FACTORY.config_model.model_json_schema(by_alias=True)
    assert schema["properties"]["apiSecret"]["writeOnly"] is True
    assert set(schema["required"]) == {"apiKey", "apiSecret", "brandName", "templates"}


# 3. Provider errors (HTTP 200 with a non-zero status, and HTTP errors) -------------------------

PROBLEM_401 = {
    "type": "https://developer.nexmo.com/api-errors#unauthorized",
    "title": "Unauthorized",
    "detail": "You did not provide correct credentials.",
    "instance": "797a8f199c45014ab7b08bfe9cc1c12c",
}


@pytest.mark.parametrize(
    ("status", "body", "error_class", "provider_code", "text"),
    [
        # providers.md §6.1 failure example
        (200, refused("7", "Number barred."), InvalidRequestParametersError, "7", "Number barred."),
        (200, refused("4", "Bad Credentials"), AuthorizationFailedError, "4", "Bad Credentials"),
        (200, refused("14", "Invalid Signature"), AuthorizationFailedError, "14", "Invalid"),
        (
            200,
            refused("29", "Non White-listed Destination - rejected"),
            InvalidConfigError,
            "29",
            "Non White-listed Destination",
        ),
        (
            200,
            refused("15", "Illegal Sender Address - rejected"),
            InvalidConfigError,
            "15",
            "Illeg",
        ),
        (
            200,
            refused("1", "Throughput Rate Exceeded - please wait [ 1000 ] and retry"),
            RateLimitExceededError,
            "1",
            "Throughput Rate Exceeded",
        ),
        (200, refused("9", "Quota Exceeded - rejected"), UsageLimitExceededError, "9", "Quota"),
        (
            200,
            refused("6", "Unroutable message - rejected"),
            InvalidRequestParametersError,
            "6",
            "Unr",
        ),
        (200, refused("33", "Number De-activated"), InvalidRequestParametersError, "33", "De-act"),
        (
            200,
            refused("3", "Invalid request :: Invalid 'to' address"),
            InvalidRequestParametersError,
            "3",
            "Invalid 'to' address",
        ),
        (200, refused("3", "Invalid from param"), InvalidConfigError, "3", "Invalid from param"),
        (200, refused("5", "Internal Error"), ConnectorError, "5", "Internal Error"),
        (200, refused("2", "Missing from param"), ConnectorError, "2", "Missing from param"),
        (401, PROBLEM_401, AuthorizationFailedError, None, "You did not provide correct"),
        (429, "Too Many Requests", RateLimitExceededError, None, None),
        (503, "<html>Service Unavailable</html>", ConnectorError, None, None),
    ],
)
async def test_provider_errors_are_mapped(
    status: int,
    body: Any,
    error_class: type[ConnectorError],
    provider_code: str | None,
    text: str | None,
) -> None:
    with pytest.raises(ConnectorError) as info:
        await send(CONFIG, message(), answer(status, body))
    error = info.value
    assert type(error) is error_class
    assert error.details.get("provider_code") == provider_code
    assert error.details["http_status"] == status
    assert error.details["provider"] == "vonage-sms"
    if text is not None:
        assert text in str(error)
        assert text in str(error.details["provider_message"])
    dumped = repr(error.to_dict())
    assert SECRET not in dumped
    assert CODE not in dumped


async def test_a_failed_part_of_a_long_message_fails_the_send() -> None:
    body = accepted("0C00000001", "0C00000002")
    body["messages"][1] = {"status": "9", "error-text": "Quota Exceeded - rejected"}
    with pytest.raises(UsageLimitExceededError) as info:
        await send(CONFIG, message(), answer(200, body))
    assert info.value.details["provider_code"] == "9"


@pytest.mark.parametrize(
    "body",
    [{"message-count": "0", "messages": []}, {"message-count": "1"}, {"messages": ["0"]}, "OK"],
)
async def test_bodies_without_an_accepted_message_are_invalid(body: Any) -> None:
    with pytest.raises(InvalidResponseError):
        await send(CONFIG, message(), answer(200, body))


async def test_success_keeps_vonage_details() -> None:
    result, _ = await send(CONFIG, message(), answer(200, accepted("0C00000001", "0C00000002")))
    assert result.provider_message_id == "0C00000001"
    assert result.details == {
        "message-count": 2,
        "message-ids": ["0C00000001", "0C00000002"],
        "message-prices": ["0.03330000", "0.03330000"],
        "remaining-balance": "15.51590000",
        "network": "26202",
    }
    single, _ = await send(CONFIG, message())
    assert single.details == {
        "message-count": 1,
        "message-price": "0.03330000",
        "remaining-balance": "15.50590000",
        "network": "26202",
    }


# 4. Real sockets: timeout and refused connection -----------------------------------------------


# 5. Conformance kit --------------------------------------------------------------------------


async def test_conformance() -> None:
    await run_conformance(FACTORY)


def test_factory_metadata() -> None:
    assert vonage.FACTORY is FACTORY
    assert (FACTORY.id, FACTORY.target) == ("vonage-sms", "vonage-sms")
    assert FACTORY.metadata()["logo"].startswith("data:image/svg+xml;base64,")
    FACTORY.parse_config(FACTORY.sample_config)


# 6. Endpoint override --------------------------------------------------------------------------


async def test_endpoint_override_changes_the_url() -> None:
    config = {**CONFIG, "endpoint": "https://sms-proxy.example.com/vonage/"}
    _, seen = await send(config, message())
    assert str(seen[0].url) == "https://sms-proxy.example.com/vonage/sms/json"
    assert seen[0].headers["host"] == "sms-proxy.example.com"


# 7. Oracle: the official SDK (vonage 4.9) and our connector against the same local recorder ----


class Recorder:
    """A real HTTP server on 127.0.0.1 that keeps each request and answers with a fixed body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.body: dict[str, Any] = accepted()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {name.lower(): value for name, value in self.headers.items()}
                recorder.seen.append((self.command, self.path, headers, self.rfile.read(length)))
                out = json.dumps(recorder.body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


class PlainHttp(HTTPAdapter):
    """The SDK hard-codes `https://`; the recorder speaks plain HTTP (providers.md §9)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.url = (request.url or "").replace("https://", "http://", 1)
        return super().send(request, **kwargs)


def sdk_send(port: int, text: str, *, unicode: bool) -> Any:
    from vonage import Auth, HttpClientOptions, Vonage
    from vonage_sms import SmsMessage as SdkSms

    options = HttpClientOptions(rest_host=f"127.0.0.1:{port}", max_retries=0)
    sdk = Vonage(Auth(api_key=KEY, api_secret=SECRET), options)
    session = sdk.http_client._session
    session.trust_env = False
    session.mount("https://", PlainHttp())
    extra = {"type": "unicode"} if unicode else {}
    return sdk.sms.send(SdkSms(to="4915112345678", from_="Acme", text=text, **extra))


@pytest.mark.parametrize(
    ("template", "unicode"), [("Your code is {{code}}", False), ("Ваш код {{code}}", True)]
)
async def test_sdk_oracle_sends_what_we_send(
    recorder: Recorder, template: str, unicode: bool
) -> None:
    text = template.replace("{{code}}", CODE)
    sdk_result = await asyncio.to_thread(sdk_send, recorder.port, text, unicode=unicode)
    config = {
        **CONFIG,
        "endpoint": f"http://127.0.0.1:{recorder.port}",
        "templates": [{"usageType": "Generic", "content": template}],
    }
    async with local_http.async_client() as client:
        ours = await FACTORY.build(config, client).send(message())

    (sdk_method, sdk_path, sdk_headers, sdk_body), (method, path, headers, body) = recorder.seen
    assert (method, path) == (sdk_method, sdk_path) == ("POST", "/sms/json")
    assert headers["authorization"] == sdk_headers["authorization"] == BASIC
    assert headers["content-type"] == sdk_headers["content-type"]
    assert headers["accept"] == sdk_headers["accept"]
    assert parse_qs(body.decode()) == parse_qs(sdk_body.decode())
    assert body == sdk_body
    assert ours.provider_message_id == sdk_result.messages[0].message_id


async def test_sdk_oracle_agrees_that_a_status_29_is_an_error(recorder: Recorder) -> None:
    from vonage_sms.errors import SmsError

    recorder.body = refused("29", "Non White-listed Destination - rejected")
    with pytest.raises(SmsError):
        await asyncio.to_thread(sdk_send, recorder.port, "Your code is 1", unicode=False)
    async with local_http.async_client() as client:
        config = {**CONFIG, "endpoint": f"http://127.0.0.1:{recorder.port}"}
        with pytest.raises(InvalidConfigError):
            await FACTORY.build(config, client).send(message())


# 8. Vonage `sig` vectors (providers.md §8.5) -----------------------------------------------------

PARAMS = {"param1": "value1", "param2": "value2", "timestamp": 1234567890}


def test_signing_string() -> None:
    # providers.md §8.5: the signed string of the vonage-python-sdk test_auth.py vectors
    assert signing.signing_string(PARAMS) == "&param1=value1&param2=value2&timestamp=1234567890"


def test_sdk_vector_hmac_sha256() -> None:
    # vonage-python-sdk http_client/tests/test_auth.py (providers.md §8.5, row 1)
    expected = "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287"
    assert signing.sign(PARAMS, "signature_secret", "sha256") == expected


def test_sdk_vector_hmac_md5() -> None:
    # vonage-python-sdk http_client/tests/test_auth.py (providers.md §8.5, row 2)
    assert signing.sign(PARAMS, "signature_secret", "md5") == "724c2bf6ca423c36e20631b11d1c5753"


def test_sdk_vector_replaces_ampersand_and_equals() -> None:
    params = {"param1": "value&1", "param2": "value=2", "timestamp": 1234567890}
    # vonage-python-sdk http_client/tests/test_auth.py (providers.md §8.5, row 3)
    assert signing.sign(params, "signature_secret") == "2bbf0abafb2c55e5af6231513896a2ac"


def test_sdk_vector_check_signature() -> None:
    params = {"param": "value", "timestamp": 1234567890}
    # vonage-python-sdk http_client/tests/test_auth.py (providers.md §8.5, row 4)
    signed = {**params, "sig": "655a4d0b7f064dff438defc52b012cf5"}
    assert signing.verify(signed, "signature_secret")
    assert signing.verify({**signed, "sig": signed["sig"].upper()}, "signature_secret")
    assert not signing.verify({**signed, "param": "other"}, "signature_secret")
    assert not signing.verify(params, "signature_secret")


def test_plain_md5_hash_method() -> None:
    # providers.md §8.5 [computed]: md5hex(string + "signature_secret"), the "MD5 hash" method
    assert signing.sign(PARAMS, "signature_secret", "md5hash") == "d72f75ac8cda9bbce891c4fa62bee6cd"


def test_signed_sms_send_vector() -> None:
    params = {
        "api_key": "abcd1234",
        "from": "Acme",
        "text": "Your code is 654321",
        "timestamp": 1700000000,
        "to": "447700900000",
    }
    # providers.md §8.5 [computed]: a signed SMS send, HMAC-SHA256, secret "sigsecret"
    expected = "5c3cfe1d6635f32d11de93cf1a2153639a7b23bba648ef55c7c418aa6479850f"
    assert signing.sign(params, "sigsecret", "sha256") == expected


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_signing_matches_the_sdk(method: signing.SignatureMethod) -> None:
    from vonage_http_client.auth import Auth

    params = {"to": "447700900000", "text": "a&b=c é", "timestamp": 1700000000}
    sdk = Auth(api_key=KEY, signature_secret="sigsecret", signature_method=method)
    assert signing.sign(params, "sigsecret", method) == sdk.sign_params(dict(params))
