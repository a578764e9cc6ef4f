"""A real SMTP server on 127.0.0.1 (aiosmtpd) for tests, with STARTTLS, implicit TLS and AUTH,
and the self-signed certificate it presents."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.servers import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)


@dataclass(frozen=True)
class Certificate:
    pem: str
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def self_signed_certificate(directory: Path) -> Certificate:
    """A certificate for 127.0.0.1 and localhost, signed by its own key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "phoneauth test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_file = directory / "smtp-cert.pem"
    key_file = directory / "smtp-key.pem"
    cert_file.write_text(pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(pem=pem, cert_file=cert_file, key_file=key_file)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.server.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                tls=session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
                login=login,
            )
        )
        return "250 Message accepted for delivery"


def _authenticator(users: dict[str, str]) -> Any:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        # `handled=False`: aiosmtpd then answers 535 itself.
        return AuthResult(
            success=users.get(user) == password, handled=False, auth_data=user.encode()
        )

    return authenticate


@contextmanager
def smtp_server(
    *,
    starttls: Certificate | None = None,
    implicit_tls: Certificate | None = None,
    require_starttls: bool = False,
    users: dict[str, str] | None = None,
) -> Iterator[SmtpServer]:
    """An SMTP server on a free port of 127.0.0.1 until the block ends; it keeps what it got."""
    port = free_port()
    server = SmtpServer(host="127.0.0.1", port=port)
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs["tls_context"] = starttls.server_context()
        kwargs["require_starttls"] = require_starttls
    if implicit_tls is not None:
        kwargs["ssl_context"] = implicit_tls.server_context()
    if users is not None:
        kwargs["authenticator"] = _authenticator(users)
        kwargs["auth_require_tls"] = starttls is not None or implicit_tls is not None
    controller = Controller(
        _Handler(server), hostname="127.0.0.1", port=port, ready_timeout=60, **kwargs
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
