"""A real SMTP server on 127.0.0.1 (aiosmtpd) for tests, with STARTTLS, implicit TLS and AUTH
(LOGIN, PLAIN, and XOAUTH2 as Gmail answers it), the self-signed certificate it presents, and an
OAuth2 token endpoint that hands out access tokens for a refresh token."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from base64 import b64decode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.servers import free_port, serve_in_thread


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
    xoauth2: list[tuple[str, str]] = field(default_factory=list)
    """Every XOAUTH2 sign-in tried: (user, access token)."""


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


class _OAuthHandler(_Handler):
    """Accepts XOAUTH2 for the tokens in `tokens` (user → access token), read at each AUTH."""

    def __init__(self, server: SmtpServer, tokens: dict[str, str]) -> None:
        super().__init__(server)
        self.tokens = tokens

    async def auth_XOAUTH2(self, smtp: Any, args: list[str]) -> AuthResult:
        blob = b64decode(args[1]) if len(args) > 1 else await smtp.challenge_auth("")
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        self.server.xoauth2.append((user, token))
        if self.tokens.get(user) == token:
            return AuthResult(success=True, auth_data=user.encode())
        # Gmail's refusal: a 334 challenge holding the error, then 535 after the empty reply.
        await smtp.challenge_auth(json.dumps({"status": "401", "schemes": "Bearer"}))
        return AuthResult(success=False, handled=False)


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
    oauth_tokens: dict[str, str] | None = None,
) -> Iterator[SmtpServer]:
    """An SMTP server on a free port of 127.0.0.1 until the block ends; it keeps what it got.

    `oauth_tokens` (user → access token) offers XOAUTH2; the test may change it between sends.
    """
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
    if users is not None or oauth_tokens is not None:
        kwargs["auth_require_tls"] = starttls is not None or implicit_tls is not None
    handler = _Handler(server) if oauth_tokens is None else _OAuthHandler(server, oauth_tokens)
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=60, **kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class TokenEndpoint:
    """An OAuth2 token endpoint: each POST is kept; `replies` answer first, in order, then each
    request gets a new token `fresh-1`, `fresh-2`, … valid for `expires_in` seconds."""

    url: str = ""
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    """(content type, body) of every request."""
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    expires_in: int = 3599
    issued: int = 0

    def reset(self) -> None:
        self.requests.clear()
        self.replies.clear()
        self.expires_in = 3599
        self.issued = 0


@contextmanager
def token_endpoint() -> Iterator[TokenEndpoint]:
    """A token endpoint at `<url>` on 127.0.0.1 until the block ends."""
    endpoint = TokenEndpoint()

    async def token(request: Request) -> JSONResponse:
        endpoint.requests.append((request.headers.get("content-type", ""), await request.body()))
        if endpoint.replies:
            status, body = endpoint.replies.pop(0)
            return JSONResponse(body, status_code=status)
        endpoint.issued += 1
        return JSONResponse(
            {
                "access_token": f"fresh-{endpoint.issued}",
                "expires_in": endpoint.expires_in,
                "token_type": "Bearer",
            }
        )

    app = Starlette(routes=[Route("/token", token, methods=["POST"])])
    with serve_in_thread(app) as base:
        endpoint.url = f"{base}/token"
        yield endpoint
