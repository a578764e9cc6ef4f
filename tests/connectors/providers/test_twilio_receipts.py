"""Twilio status callbacks: the X-Twilio-Signature check against Twilio's published vectors and
its SDK's validator, the status vocabulary, and `StatusCallback` on the wire."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from tests.connectors.providers.test_twilio import CONFIG, created
from twilio.request_validator import RequestValidator

from phoneauth.connectors import SmsMessage
from phoneauth.connectors.providers import twilio
from phoneauth.connectors.providers.twilio.receipts import signature
from phoneauth.connectors.receipts import (
    CallbackRequest,
    DeliveryReport,
    MalformedReportError,
    ReportedStatus,
    ReportSignatureError,
)
from phoneauth.connectors.testing import recording_client

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Digits", "1234"), ("To", "+18005551212")]
FORM = "application/x-www-form-urlencoded"
CALLBACK = "https://id.example.com/api/connectors/row-1/delivery-reports"
SID = "SM" + "d" * 32


def caller(number: str) -> list[tuple[str, str]]:
    return [*VECTOR_PARAMS, ("Caller", number), ("From", number)]


# providers.md §8.4: twilio-python tests/unit/test_request_validator.py and Twilio's
# "webhooks security" page (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    ],
)
def test_signature_reproduces_twilios_published_vectors(number: str, expected: str) -> None:
    assert signature("12345", URL, caller(number)) == expected


def test_repeated_parameters_sign_their_values_sorted() -> None:
    # providers.md §8.4, duplicate keys vector from the SDK's tests.
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert signature("12345", URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def callback(
    params: list[tuple[str, str]], sig: str | None, url: str = CALLBACK
) -> CallbackRequest:
    headers = {"content-type": FORM}
    if sig is not None:
        headers["x-twilio-signature"] = sig
    return CallbackRequest("POST", url, headers, urlencode(params).encode())


def config() -> twilio.TwilioConfig:
    return twilio.FACTORY.parse_config(CONFIG)


# The port quirk (providers.md §1.5; vectors §8.4): Twilio may sign the URL with the port or
# without it, whichever way the callback URL was written.
@pytest.mark.parametrize(
    ("signed_url", "received_url", "expected"),
    [
        (
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
        ),
        (
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        ),
        (
            "http://mycompany.com:80/myapp.php?foo=1&bar=2",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
        ),
        (
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        ),
    ],
)
def test_the_url_is_checked_with_and_without_its_port(
    signed_url: str, received_url: str, expected: str
) -> None:
    assert signature("12345", signed_url, caller("+14158675309")) == expected
    params = [*caller("+14158675309"), ("MessageSid", SID), ("MessageStatus", "sent")]
    sig = signature("12345", signed_url, params)
    good = twilio.FACTORY.parse_config({**CONFIG, "authToken": "12345"})
    reports = twilio.FACTORY.receipts.read(good, callback(params, sig, received_url))  # type: ignore[union-attr]
    assert reports == [DeliveryReport(SID, ReportedStatus.SENT, "sent")]


def status_params(status: str, error_code: str | None = None) -> list[tuple[str, str]]:
    """A status callback as Twilio posts it (providers.md §1.5)."""
    params = [
        ("AccountSid", CONFIG["accountSID"]),
        ("ApiVersion", "2010-04-01"),
        ("From", "+15017122661"),
        ("MessageSid", SID),
        ("MessageStatus", status),
        ("MessagingServiceSid", CONFIG["fromMessagingServiceSID"]),
        ("SmsSid", SID),
        ("SmsStatus", status),
        ("To", "+4915112345678"),
    ]
    return params if error_code is None else [*params, ("ErrorCode", error_code)]


def sdk_signed(params: list[tuple[str, str]], url: str = CALLBACK) -> CallbackRequest:
    """Signed by twilio-python's own validator: the oracle (test dependency only)."""
    sig = RequestValidator(CONFIG["authToken"]).compute_signature(url, dict(params))
    return callback(params, sig, url)


@pytest.mark.parametrize(
    ("status", "error_code", "expected", "code"),
    [
        ("queued", None, ReportedStatus.ACCEPTED, "queued"),
        ("sent", None, ReportedStatus.SENT, "sent"),
        ("delivered", None, ReportedStatus.DELIVERED, "delivered"),
        ("undelivered", "30003", ReportedStatus.UNDELIVERED, "30003"),
        ("failed", "30008", ReportedStatus.FAILED, "30008"),
    ],
)
def test_sdk_signed_callbacks_are_read_and_normalised(
    status: str, error_code: str | None, expected: ReportedStatus, code: str
) -> None:
    reports = twilio.FACTORY.receipts.read(config(), sdk_signed(status_params(status, error_code)))  # type: ignore[union-attr]
    assert reports == [DeliveryReport(SID, expected, code)]


def test_sdk_validator_accepts_what_we_sign() -> None:
    params = status_params("delivered")
    ours = signature(CONFIG["authToken"], CALLBACK, params)
    assert RequestValidator(CONFIG["authToken"]).validate(CALLBACK, dict(params), ours)


@pytest.mark.parametrize(
    "request_",
    [
        callback(status_params("delivered"), None),
        callback(status_params("delivered"), "not-a-signature"),
        # Signed for another URL (another connector's), or with another account's token.
        sdk_signed(status_params("delivered"), CALLBACK.replace("row-1", "row-2")),
        callback(
            status_params("delivered"),
            RequestValidator("other").compute_signature(CALLBACK, dict(status_params("delivered"))),
        ),
    ],
    ids=["missing", "garbage", "other-url", "other-token"],
)
def test_a_missing_or_wrong_signature_is_refused(request_: CallbackRequest) -> None:
    request = CallbackRequest(request_.method, CALLBACK, request_.headers, request_.body)
    with pytest.raises(ReportSignatureError) as refused:
        twilio.FACTORY.receipts.read(config(), request)  # type: ignore[union-attr]
    assert (refused.value.status, refused.value.code) == (401, "delivery_report.invalid_signature")


def test_a_tampered_status_is_refused() -> None:
    signed = sdk_signed(status_params("failed", "30008"))
    body = signed.body.replace(b"failed", b"delivered")
    with pytest.raises(ReportSignatureError):
        twilio.FACTORY.receipts.read(
            config(), CallbackRequest("POST", CALLBACK, signed.headers, body)
        )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "params",
    [
        status_params("receiving"),
        [p for p in status_params("sent") if p[0] != "MessageSid"],
    ],
    ids=["inbound-status", "no-sid"],
)
def test_signed_reports_that_are_no_status_callback_are_malformed(
    params: list[tuple[str, str]],
) -> None:
    with pytest.raises(MalformedReportError) as refused:
        twilio.FACTORY.receipts.read(config(), sdk_signed(params))  # type: ignore[union-attr]
    assert refused.value.status == 400


def test_a_body_that_is_not_a_form_is_malformed() -> None:
    request = CallbackRequest(
        "POST", CALLBACK, {"content-type": "application/json", "x-twilio-signature": "x"}, b"{}"
    )
    with pytest.raises(MalformedReportError):
        twilio.FACTORY.receipts.read(config(), request)  # type: ignore[union-attr]


async def test_status_callback_goes_on_the_wire_only_when_set() -> None:
    client, seen = recording_client(created)
    async with client:
        connector = twilio.FACTORY.build(CONFIG, client)
        await connector.send(SmsMessage(to="+4915112345678", payload={"code": "864209"}))
        await connector.send(
            SmsMessage(to="+4915112345678", payload={"code": "864209"}, status_callback=CALLBACK)
        )
    assert b"StatusCallback" not in seen[0].content
    assert seen[1].content == (
        b"To=%2B4915112345678&MessagingServiceSid=MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        b"&Body=Your+verification+code+is+864209.&RiskCheck=enable"
        b"&StatusCallback=https%3A%2F%2Fid.example.com%2Fapi%2Fconnectors%2Frow-1"
        b"%2Fdelivery-reports"
    )
    assert connector.reports_delivery is True  # type: ignore[attr-defined]
