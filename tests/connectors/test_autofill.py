"""One-time-code autofill lines: their format and order, and the exact request of every
connector that sends text, with the lines appended (and unchanged without them)."""

from __future__ import annotations

from typing import Any

import pytest
from tests import local_http

from phoneauth.connectors import ContentTemplate, SmsMessage, UsageType
from phoneauth.connectors.autofill import Autofill, is_host_name
from phoneauth.connectors.base import RendersText
from phoneauth.connectors.providers import gatewayapi, outbox, smsaero, twilio, vonage
from phoneauth.connectors.providers.aliyun import FACTORY as ALIYUN
from phoneauth.connectors.providers.http_sms import FACTORY as HTTP_SMS
from phoneauth.connectors.providers.tencent import FACTORY as TENCENT
from phoneauth.connectors.templates import render_sms
from phoneauth.connectors.testing import recording_client

CODE = "123456"
HASH = "FA+9qCX9VSu"  # Google's example hash ("Perform SMS Verification on a Server")
BOTH = Autofill(web_otp_domain="id.example.com", android_app_hash=HASH)
TEMPLATES = [{"usageType": "Generic", "content": "Your code is {{code}}."}]


def message(autofill: Autofill | None) -> SmsMessage:
    return SmsMessage(
        to="+4915112345678",
        usage_type=UsageType.SIGN_IN,
        payload={"code": CODE},
        autofill=autofill,
    )


def test_the_origin_bound_line_is_last_and_the_app_hash_before_it() -> None:
    assert BOTH.append_to("Your code is 123456.", CODE) == (
        "Your code is 123456.\nFA+9qCX9VSu\n@id.example.com #123456"
    )
    only_web = Autofill(web_otp_domain="id.example.com")
    assert only_web.append_to("Code 1.\n", CODE) == "Code 1.\n@id.example.com #123456"
    assert Autofill(android_app_hash=HASH).append_to("x", CODE) == "x\nFA+9qCX9VSu"
    assert only_web.append_to("no code", None) == "no code"  # WebOTP needs a code
    assert not Autofill()


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("id.example.com", True),
        ("localhost", True),
        ("xn--bcher-kva.example", True),
        ("example", False),
        ("https://id.example.com", False),
        ("id.example.com:443", False),
        ("id.example.com/path", False),
        ("-bad.example.com", False),
        ("ID.Example.com", False),  # the settings lower-case it first
        ("192.168.0.1", False),
        ("a..b", False),
    ],
)
def test_host_names(host: str, valid: bool) -> None:
    assert is_host_name(host) is valid


def test_render_sms_without_autofill_is_the_template_as_rendered() -> None:
    templates = [ContentTemplate.model_validate(item) for item in TEMPLATES]
    assert render_sms(templates, message(None)) == "Your code is 123456."
    assert render_sms(templates, message(Autofill())) == "Your code is 123456."


APPENDED = "Your code is 123456.\nFA+9qCX9VSu\n@id.example.com #123456"

# Each text connector: config, and its exact body with the lines (the text URL- or JSON-encoded).
CASES: list[tuple[Any, dict[str, Any], bytes]] = [
    (
        twilio.FACTORY,
        {
            "accountSID": "AC" + "a" * 32,
            "authToken": "t",
            "fromMessagingServiceSID": "MG" + "b" * 32,
            "templates": TEMPLATES,
        },
        b"To=%2B4915112345678&MessagingServiceSid=MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        b"&Body=Your+code+is+123456.%0AFA%2B9qCX9VSu%0A%40id.example.com+%23123456"
        b"&RiskCheck=enable",
    ),
    (
        vonage.FACTORY,
        {"apiKey": "k", "apiSecret": "s", "brandName": "Acme", "templates": TEMPLATES},
        b"to=4915112345678&from=Acme"
        b"&text=Your+code+is+123456.%0AFA%2B9qCX9VSu%0A%40id.example.com+%23123456",
    ),
    (
        smsaero.FACTORY,
        {"email": "ops@example.com", "apiKey": "k", "senderName": "Acme", "templates": TEMPLATES},
        b'{"number":"4915112345678","sign":"Acme",'
        b'"text":"Your code is 123456.\\nFA+9qCX9VSu\\n@id.example.com #123456"}',
    ),
    (
        gatewayapi.FACTORY,
        {"apiToken": "k", "sender": "Acme", "templates": TEMPLATES},
        b'{"sender":"Acme","message":"Your code is 123456.\\nFA+9qCX9VSu\\n@id.example.com'
        b' #123456","recipients":[{"msisdn":"4915112345678"}]}',
    ),
]


@pytest.mark.parametrize(("factory", "config", "body"), CASES, ids=lambda v: getattr(v, "id", ""))
async def test_text_connectors_append_the_lines(
    factory: Any, config: dict[str, Any], body: bytes
) -> None:
    client, seen = recording_client(factory.provider_fake)
    async with client:
        connector = factory.build(config, client)
        await connector.send(message(None))
        plain = seen[-1].content
        await connector.send(message(Autofill()))
        assert seen[-1].content == plain  # settings unset: the request does not change
        await connector.send(message(BOTH))
        assert seen[-1].content == body
        assert isinstance(connector, RendersText)
        assert connector.sms_text(message(BOTH)) == APPENDED


async def test_the_outbox_keeps_the_text_with_the_lines() -> None:
    kept = outbox.Outbox()
    connector = outbox.FACTORY.build(
        {"templates": TEMPLATES}, local_http.async_client(), outbox=kept
    )
    await connector.send(message(BOTH))
    assert kept.messages()[0].text == APPENDED


@pytest.mark.parametrize("factory", [ALIYUN, TENCENT, HTTP_SMS], ids=lambda f: f.id)
def test_connectors_that_do_not_send_text_do_not_say_one(factory: Any) -> None:
    """Template providers and the HTTP gateway render elsewhere: the text is unknown here."""
    connector = factory.build(factory.sample_config, local_http.async_client())
    assert not isinstance(connector, RendersText)
