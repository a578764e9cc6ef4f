"""The SMTP connector against a real SMTP server on 127.0.0.1 (aiosmtpd): the exact message, TLS
and STARTTLS with a certificate the test makes, AUTH, refusals, and the destination guard."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from tests.smtp_servers import Certificate, self_signed_certificate, smtp_server

from phoneauth.connectors import (
    AuthorizationFailedError,
    ConnectorError,
    ConnectorUnreachableError,
    DestinationForbiddenError,
    EmailMessage,
    InvalidConfigError,
    UsageType,
    build_http_client,
    get_factory,
)
from phoneauth.connectors.config import dump_config, secret_fields
from phoneauth.connectors.errors import InvalidCertificateError, UnexpectedTypeError

SMTP = get_factory("simple-mail-transfer-protocol")
PASSWORD = "smtp-pass-91c2"
TEMPLATES: list[dict[str, str]] = [
    {
        "usageType": "SignIn",
        "contentType": "text/plain",
        "subject": "Sign in: {{code}}",
        "content": "Your sign-in code is {{code}}.",
    },
    {
        "usageType": "Register",
        "contentType": "text/html",
        "subject": "Welcome",
        "content": "<p>Your sign-up code is <b>{{code}}</b>.</p>",
    },
    {
        "usageType": "ForgotPassword",
        "contentType": "text/plain",
        "subject": "Reset",
        "content": "Reset code {{code}}",
    },
    {
        "usageType": "Generic",
        "contentType": "text/plain",
        "subject": "Your code",
        "content": "Generic code {{code}}",
    },
]
TO = "Jane.Roe@Example.COM"


def _config(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "auth": {},
        "fromEmail": "Phoneauth <no-reply@example.com>",
        "templates": TEMPLATES,
        **extra,
    }


async def _send(config: dict[str, Any], message: EmailMessage, **options: Any) -> Any:
    async with build_http_client() as client:
        connector = SMTP.build_email(config, client, allow_private_hosts=True, **options)
        return await connector.send(message)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("smtp-tls"))


async def test_a_plain_text_message_arrives_exactly() -> None:
    with smtp_server() as server:
        message = EmailMessage(to=TO, usage_type=UsageType.SIGN_IN, payload={"code": "864209"})
        result = await _send(_config(server.port, replyTo="help@example.com"), message)
    [received] = server.received
    assert received.mail_from == "no-reply@example.com"
    assert received.rcpt_tos == ["Jane.Roe@example.com"]
    mail = received.message
    assert mail["From"] == "Phoneauth <no-reply@example.com>"
    assert mail["To"] == "Jane.Roe@example.com"
    assert mail["Subject"] == "Sign in: 864209"
    assert mail["Reply-To"] == "help@example.com"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content() == "Your sign-in code is 864209.\r\n"  # CRLF on the wire
    assert result.provider_message_id == mail["Message-ID"]
    assert received.tls is False  # the server offers no STARTTLS: none is attempted


async def test_html_templates_are_sent_as_html_and_generic_is_the_fallback() -> None:
    with smtp_server() as server:
        await _send(_config(server.port), EmailMessage(TO, UsageType.REGISTER, {"code": "1"}))
        await _send(_config(server.port), EmailMessage(TO, UsageType.BIND_MFA, {"code": "2"}))
    html, generic = (received.message for received in server.received)
    assert html.get_content_type() == "text/html"
    assert html.get_content() == "<p>Your sign-up code is <b>1</b>.</p>\r\n"
    assert generic["Subject"] == "Your code"
    assert generic.get_content() == "Generic code 2\r\n"


async def test_starttls_with_a_trusted_certificate_and_login(
    certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    users = {"mailer": PASSWORD}
    with smtp_server(starttls=certificate, require_starttls=True, users=users) as server:
        config = _config(
            server.port,
            auth={"user": "mailer", "pass": PASSWORD},
            requireTLS=True,
            tls={"ca": certificate.pem},
            customHeaders={"X-Campaign": "sign-in"},
        )
        await _send(config, EmailMessage(TO, UsageType.SIGN_IN, {"code": "555123"}))
    [received] = server.received
    assert received.tls is True
    assert received.login == "mailer"
    assert received.message["X-Campaign"] == "sign-in"
    assert received.message["Subject"] == "Sign in: 555123"
    # Everything this process logged, but the test server's own debug log (`mail.log`).
    logged = "\n".join(
        f"{record.getMessage()} {vars(record)}"
        for record in caplog.records
        if record.name != "mail.log"
    )
    assert "email sent" in logged
    for private in (PASSWORD, "555123", "Jane.Roe", "jane.roe"):
        assert private not in logged


async def test_starttls_is_used_when_offered_and_the_certificate_is_checked(
    certificate: Certificate,
) -> None:
    with smtp_server(starttls=certificate) as server:
        with pytest.raises(InvalidCertificateError):  # self-signed, not trusted
            await _send(_config(server.port), EmailMessage(TO, UsageType.SIGN_IN, {"code": "1"}))
        assert server.received == []
        await _send(
            _config(server.port, tls={"rejectUnauthorized": False}),
            EmailMessage(TO, UsageType.SIGN_IN, {"code": "2"}),
        )
        await _send(
            _config(server.port, ignoreTLS=True),
            EmailMessage(TO, UsageType.SIGN_IN, {"code": "3"}),
        )
    assert [received.tls for received in server.received] == [True, False]


async def test_implicit_tls_with_secure(certificate: Certificate) -> None:
    with smtp_server(implicit_tls=certificate) as server:
        config = _config(server.port, secure=True, tls={"ca": certificate.pem})
        await _send(config, EmailMessage(TO, UsageType.FORGOT_PASSWORD, {"code": "777000"}))
    [received] = server.received
    assert received.tls is True
    assert received.message.get_content() == "Reset code 777000\r\n"


async def test_require_tls_against_a_server_without_starttls_fails() -> None:
    with smtp_server() as server, pytest.raises(ConnectorError) as raised:
        await _send(
            _config(server.port, requireTLS=True),
            EmailMessage(TO, UsageType.SIGN_IN, {"code": "1"}),
        )
    assert raised.value.code == "connector.general"
    assert server.received == []


async def test_wrong_credentials_are_authorization_failed(certificate: Certificate) -> None:
    with smtp_server(starttls=certificate, users={"mailer": PASSWORD}) as server:
        config = _config(
            server.port, auth={"user": "mailer", "pass": "wrong"}, tls={"ca": certificate.pem}
        )
        with pytest.raises(AuthorizationFailedError) as raised:
            await _send(config, EmailMessage(TO, UsageType.SIGN_IN, {"code": "1"}))
    assert "wrong" not in repr(raised.value.to_dict())
    assert server.received == []


async def test_a_closed_port_is_unreachable(closed_port: int) -> None:
    with pytest.raises(ConnectorUnreachableError):
        await _send(_config(closed_port), EmailMessage(TO, UsageType.SIGN_IN, {"code": "1"}))


async def test_private_hosts_are_refused_unless_allowed(closed_port: int) -> None:
    with pytest.raises(InvalidConfigError) as refused:
        SMTP.parse_config(_config(closed_port), allow_private_hosts=False)
    assert refused.value.details["errors"][0]["field"] == "host"
    for host in ("localhost", "10.1.2.3"):
        with pytest.raises(InvalidConfigError):
            SMTP.parse_config(_config(25, host=host), allow_private_hosts=False)
    async with build_http_client() as client:  # a name is checked on the addresses it has
        connector = SMTP.build_email(_config(closed_port, host="localhost"), client)
        with pytest.raises(DestinationForbiddenError):
            await connector.send(EmailMessage(TO, UsageType.SIGN_IN, {"code": "1"}))


def test_logtos_rules_and_keys() -> None:
    without_generic = [t for t in TEMPLATES if t["usageType"] != "Generic"]
    with pytest.raises(InvalidConfigError) as missing:
        SMTP.parse_config(_config(25, templates=without_generic))
    assert "Template with UsageType (Generic) should be provided!" in repr(missing.value.details)
    # A Logto config with nodemailer's switches validates unchanged.
    SMTP.parse_config(
        _config(
            587,
            auth={"type": "login", "user": "u", "pass": "p"},
            logger=False,
            debug=False,
            disableFileAccess=False,
            disableUrlAccess=False,
            connectionTimeout=120000,
            tls={},
        )
    )
    for bad in (
        {"host": "smtp.example.com\r\nX: y"},
        {"port": 0},
        {"fromEmail": "not an address"},
        {"templates": [{**TEMPLATES[0], "subject": "a\nBcc: x@example.com"}, *TEMPLATES[1:]]},
        {"auth": {"type": "OAuth2", "user": "u"}},
    ):
        with pytest.raises(InvalidConfigError):
            SMTP.parse_config(_config(25) | bad)


def test_the_password_is_a_masked_secret_that_storage_keeps() -> None:
    assert "auth.pass" in secret_fields(SMTP.config_model)
    config = SMTP.parse_config(_config(25, auth={"user": "u", "pass": PASSWORD}))
    assert PASSWORD not in repr(config)
    assert dump_config(config)["auth"]["pass"] == "**********"
    assert dump_config(config, reveal_secrets=True)["auth"]["pass"] == PASSWORD


async def test_an_email_factory_does_not_build_as_sms() -> None:
    async with build_http_client() as client:
        with pytest.raises(UnexpectedTypeError):
            SMTP.build(_config(25), client)


def test_email_message_validates_and_hides_the_address(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    message = EmailMessage(to="Jane@BÜCHER.example", payload={"code": "123456"})
    assert message.to == "Jane@xn--bcher-kva.example"
    assert "Jane" not in repr(message)
    assert "123456" not in repr(message)
    with pytest.raises(ConnectorError) as invalid:
        EmailMessage(to="jane@")
    assert invalid.value.code == "connector.invalid_request_parameters"


def test_the_readme_is_shipped(tmp_path: Path) -> None:
    assert SMTP.readme.startswith("# SMTP")
