"""Vonage SMS API delivery receipts: the `sig` check (Vonage's SDK as the oracle), the three
transports the dashboard offers, the status vocabulary, and `callback` on the wire."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from tests.connectors.providers.test_vonage import CONFIG, accepted, answer, message
from vonage_http_client.auth import Auth

from phoneauth.connectors import UsageType
from phoneauth.connectors.providers.vonage import FACTORY, VonageConfig, signing
from phoneauth.connectors.receipts import (
    CallbackRequest,
    DeliveryReport,
    MalformedReportError,
    ReportedStatus,
    ReportSignatureError,
    ReportsNotSupportedError,
)
from phoneauth.connectors.testing import recording_client

SIG_SECRET = "signature_secret"
CALLBACK = "https://id.example.com/api/connectors/row-1/delivery-reports"
MESSAGE_ID = "0C0000002EEBDA56"


def config(method: str = "sha256", **changes: Any) -> VonageConfig:
    return FACTORY.parse_config(
        {**CONFIG, "signatureSecret": SIG_SECRET, "signatureMethod": method, **changes}
    )


def dlr(status: str = "delivered", err_code: str = "0") -> dict[str, str]:
    """providers.md §6.1's example DLR, plus the signed-webhook fields."""
    return {
        "msisdn": "4527631111",
        "to": "Tak",
        "network-code": "23820",
        "messageId": MESSAGE_ID,
        "price": "0.01820000",
        "status": status,
        "scts": "1705021324",
        "err-code": err_code,
        "message-timestamp": "2017-05-02 11:24:03",
        "timestamp": "1493724243",
        "nonce": "e4ea3f6e-5b4c-4b39-9a0c-d4d1a8c3e6f1",
    }


def sdk_signed(params: dict[str, str], method: str = "sha256") -> dict[str, str]:
    """Signed by Vonage's own SDK (`Auth.sign_params`, HMAC methods only): the oracle."""
    auth = Auth(api_key="abcd1234", signature_secret=SIG_SECRET, signature_method=method)  # type: ignore[arg-type]
    return {**params, "sig": auth.sign_params(dict(params))}


def get(params: dict[str, str]) -> CallbackRequest:
    return CallbackRequest("GET", f"{CALLBACK}?{urlencode(params)}")


def post_form(params: dict[str, str]) -> CallbackRequest:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return CallbackRequest("POST", CALLBACK, headers, urlencode(params).encode())


def post_json(params: dict[str, str]) -> CallbackRequest:
    headers = {"content-type": "application/json"}
    return CallbackRequest("POST", CALLBACK, headers, json.dumps(params).encode())


def read(request: CallbackRequest, cfg: VonageConfig | None = None) -> list[DeliveryReport]:
    return list(FACTORY.receipts.read(cfg or config(), request))  # type: ignore[union-attr]


@pytest.mark.parametrize("transport", [get, post_form, post_json])
@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_sdk_signed_receipts_are_read_on_every_transport(transport: Any, method: str) -> None:
    reports = read(transport(sdk_signed(dlr(), method)), config(method))
    assert reports == [DeliveryReport(MESSAGE_ID, ReportedStatus.DELIVERED, "delivered")]


def test_the_sdk_accepts_our_signature_and_md5_hash_is_vonages_default() -> None:
    params = dlr()
    ours = signing.sign(params, SIG_SECRET, "sha256")
    sdk = Auth(api_key="abcd1234", signature_secret=SIG_SECRET, signature_method="sha256")
    assert sdk.check_signature({**params, "sig": ours})
    # "MD5 hash" (the dashboard's default method) has no SDK implementation: its documented
    # formula, md5(string + secret), is checked in test_vonage.py against providers.md §8.5.
    plain = {**params, "sig": signing.sign(params, SIG_SECRET, "md5hash")}
    default = FACTORY.parse_config({**CONFIG, "signatureSecret": SIG_SECRET})
    assert default.signature_method is None  # Vonage's default, "MD5 hash"
    assert read(get(plain), default)[0].status is ReportedStatus.DELIVERED


@pytest.mark.parametrize(
    ("status", "err_code", "expected", "code"),
    [
        ("accepted", "0", ReportedStatus.SENT, "accepted"),
        ("buffered", "0", ReportedStatus.SENT, "buffered"),
        ("delivered", "0", ReportedStatus.DELIVERED, "delivered"),
        ("expired", "5", ReportedStatus.UNDELIVERED, "err-code 5"),
        ("failed", "6", ReportedStatus.FAILED, "err-code 6"),
        ("rejected", "99", ReportedStatus.FAILED, "err-code 99"),
        ("unknown", "1", ReportedStatus.SENT, "err-code 1"),
    ],
)
def test_statuses_are_normalised_keeping_vonages_code(
    status: str, err_code: str, expected: ReportedStatus, code: str
) -> None:
    assert read(get(sdk_signed(dlr(status, err_code)))) == [
        DeliveryReport(MESSAGE_ID, expected, code)
    ]


def test_missing_or_wrong_sig_is_refused() -> None:
    unsigned = dlr()
    other_secret = {**unsigned, "sig": signing.sign(unsigned, "not-the-secret", "sha256")}
    tampered = {**sdk_signed(dlr("failed", "6")), "status": "delivered"}
    for params in (unsigned, other_secret, tampered):
        with pytest.raises(ReportSignatureError) as refused:
            read(get(params))
        assert refused.value.status == 401


def test_without_a_signature_secret_no_receipts_are_taken() -> None:
    with pytest.raises(ReportsNotSupportedError) as refused:
        read(get(sdk_signed(dlr())), FACTORY.parse_config(CONFIG))
    assert refused.value.status == 404


@pytest.mark.parametrize(
    "request_",
    [
        post_json(["not", "an", "object"]),  # type: ignore[arg-type]
        CallbackRequest("POST", CALLBACK, {"content-type": "application/json"}, b"{garbage"),
        CallbackRequest("POST", CALLBACK, {"content-type": "text/plain"}, b"status=delivered"),
        get(sdk_signed({**dlr(), "status": "teleported"})),
        get(sdk_signed({k: v for k, v in dlr().items() if k != "messageId"})),
    ],
    ids=["json-array", "json-garbage", "wrong-type", "unknown-status", "no-message-id"],
)
def test_bodies_that_are_no_signed_receipt_are_malformed(request_: CallbackRequest) -> None:
    with pytest.raises(MalformedReportError):
        read(request_)


async def test_callback_goes_on_the_wire_only_with_a_signature_secret() -> None:
    client, seen = recording_client(answer(200, accepted()))
    sms = message(UsageType.GENERIC)
    with_callback = type(sms)(sms.to, sms.usage_type, sms.payload, status_callback=CALLBACK)
    async with client:
        await FACTORY.build(CONFIG, client).send(with_callback)  # no secret: no callback
        signed = {**CONFIG, "signatureSecret": SIG_SECRET}
        await FACTORY.build(signed, client).send(sms)
        await FACTORY.build(signed, client).send(with_callback)
    assert seen[0].content == b"to=4915112345678&from=Acme&text=Your+code+is+864209"
    assert seen[1].content == b"to=4915112345678&from=Acme&text=Your+code+is+864209"
    # providers.md §6.1: `callback` is the DLR URL for this message.
    assert seen[2].content == (
        b"to=4915112345678&from=Acme&text=Your+code+is+864209"
        b"&callback=https%3A%2F%2Fid.example.com%2Fapi%2Fconnectors%2Frow-1%2Fdelivery-reports"
    )
