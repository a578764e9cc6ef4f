"""Logto's SMTP connector (`simple-mail-transfer-protocol`) on aiosmtplib.

TLS as nodemailer does it: `secure` is TLS from the first byte, otherwise STARTTLS when the server
offers it (`requireTLS` insists, `ignoreTLS` never upgrades). The host goes through the same guard
as HTTP endpoints: phoneauth resolves it, keeps only public addresses (unless the operator allows
private hosts), connects to one of those and hands that socket to the SMTP client, so the address
checked is the address used.

`auth` with type OAuth2 signs in with XOAUTH2; `oauth2.AccessTokens` obtains and renews the access
token. When the server refuses it (535), the connector renews it once and tries once more.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import aiosmtplib
import httpx

from phoneauth.connectors.base import ConnectorType, EmailMessage, SendResult
from phoneauth.connectors.destinations import is_public_host_address
from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    InvalidCertificateError,
)
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import DEFAULT_TIMEOUT, Clock, utc_now
from phoneauth.connectors.providers.smtp.config import SmtpConfig, sample_auth, tls_mode
from phoneauth.connectors.providers.smtp.oauth2 import AccessTokens
from phoneauth.connectors.templates import default_email_templates, render, select_template
from phoneauth.connectors.transport import forbidden_destination

FACTORY_ID = "simple-mail-transfer-protocol"
log = logging.getLogger("phoneauth.connectors")

Deliver = Callable[[MimeMessage, SmtpConfig], Awaitable[None]]
"""Hands one finished message to an SMTP server (replaced by a double in the conformance kit)."""


class SmtpConnector:
    def __init__(
        self,
        config: SmtpConfig,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        allow_private_hosts: bool = False,
        deliver: Deliver | None = None,
        clock: Clock = utc_now,
        **_options: Any,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.allow_private_hosts = allow_private_hosts
        self.deliver = deliver or self._deliver
        # One per connector: the service keeps built connectors, so sends share the token.
        self.tokens = (
            AccessTokens(config.auth, client, clock=clock) if config.auth.is_oauth2 else None
        )

    def compose(self, message: EmailMessage) -> MimeMessage:
        """The exact message: From, To, Subject, Reply-To, custom headers, text or HTML body."""
        template = select_template(self.config.templates, message)
        mime = MimeMessage()
        mime["From"] = self.config.from_email
        mime["To"] = message.to
        mime["Subject"] = _one_line(render(template.subject, message.payload))
        if self.config.reply_to:
            mime["Reply-To"] = self.config.reply_to
        domain = parseaddr(self.config.from_email)[1].rpartition("@")[2]
        mime["Message-ID"] = make_msgid(domain=domain)
        mime["Date"] = formatdate(localtime=False, usegmt=True)
        for name, value in (self.config.custom_headers or {}).items():
            mime[name] = value
        subtype = "html" if template.content_type == "text/html" else "plain"
        mime.set_content(render(template.content, message.payload), subtype=subtype)
        return mime

    async def send(self, message: EmailMessage) -> SendResult:
        started = time.perf_counter()
        mime = self.compose(message)
        try:
            async with asyncio.timeout(self.timeout):
                await self.deliver(mime, self.config)
        except ConnectorError as error:
            self._failed(error, message, started)
            raise
        except TimeoutError:
            timed_out = ConnectorTimeoutError(error="TimeoutError", timeout_s=self.timeout)
            self._failed(timed_out, message, started)
            raise timed_out from None
        except Exception as raised:
            mapped = smtp_error(raised, message.to)
            self._failed(mapped, message, started)
            raise mapped from None
        log.info(
            "email sent",
            extra={
                "connector": FACTORY_ID,
                "to": message.masked_to,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return SendResult(provider_message_id=str(mime["Message-ID"]))

    def _failed(self, error: ConnectorError, message: EmailMessage, started: float) -> None:
        error.details.setdefault("provider", FACTORY_ID)
        log.warning(
            "email send failed",
            extra={
                "connector": FACTORY_ID,
                "to": message.masked_to,
                "error_code": error.code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )

    async def _deliver(self, mime: MimeMessage, config: SmtpConfig) -> None:
        tokens = self.tokens
        if tokens is None:
            await self._session(mime, config, None)
            return
        token = await tokens.current()  # before connecting: no idle SMTP session meanwhile
        try:
            await self._session(mime, config, token)
        except aiosmtplib.SMTPAuthenticationError as refused:
            if refused.code != 535 or not tokens.can_refresh:
                raise
            log.info("smtp server refused the access token", extra={"connector": FACTORY_ID})
            await self._session(mime, config, await tokens.renewed(token))

    async def _session(self, mime: MimeMessage, config: SmtpConfig, token: str | None) -> None:
        """One SMTP session: connect, TLS as configured, sign in (XOAUTH2 with `token`), send."""
        sock = await self._connect(config)
        mode = tls_mode(config)
        auth = config.auth
        password = auth.password.get_secret_value() if auth.password else None

        async def access_token() -> str:
            return token or ""

        try:
            smtp = aiosmtplib.SMTP(
                hostname=config.tls.servername or config.servername or config.host,
                sock=sock,
                local_hostname=config.name,
                timeout=self._socket_timeout(config),
                use_tls=mode == "implicit",
                start_tls={"starttls-required": True, "none": False}.get(mode),
                tls_context=_tls_context(config),
                username=auth.user if token is not None or password is not None else None,
                password=password if token is None else None,
                oauth_token_generator=access_token if token is not None else None,
            )
        except BaseException:
            sock.close()
            raise
        # From here the client's transport owns the socket and closes it, also on failure
        # (closing it here too would free the descriptor while the transport still watches it).
        async with smtp:
            await smtp.send_message(mime)

    def _socket_timeout(self, config: SmtpConfig) -> float:
        configured = config.socket_timeout or config.greeting_timeout
        return min(configured / 1000, self.timeout) if configured else self.timeout

    async def _connect(self, config: SmtpConfig) -> socket.socket:
        """A socket connected to a checked address of the host (public unless allowed)."""
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise ConnectorUnreachableError(
                "The SMTP host name does not resolve.", error="gaierror"
            ) from None
        usable = [
            item
            for item in found
            if self.allow_private_hosts or is_public_host_address(str(item[4][0]))
        ]
        if not usable:
            raise forbidden_destination(config.host)
        connect_timeout = (config.connection_timeout or self.timeout * 1000) / 1000
        last: OSError | None = None
        for family, kind, protocol, _name, address in usable:
            sock = socket.socket(family, kind, protocol)
            sock.setblocking(False)
            try:
                async with asyncio.timeout(min(connect_timeout, self.timeout)):
                    await loop.sock_connect(sock, address)
            except (OSError, TimeoutError) as error:
                sock.close()
                last = error if isinstance(error, OSError) else TimeoutError()
                continue
            return sock
        if isinstance(last, TimeoutError):
            raise ConnectorTimeoutError(error="TimeoutError", timeout_s=connect_timeout)
        raise ConnectorUnreachableError(error=type(last).__name__ if last else "OSError")


def _one_line(text: str) -> str:
    """A rendered subject as one header line: payload values cannot add headers."""
    return "".join(
        " " if char in "\r\n\t" else char for char in text if char.isprintable() or char in "\r\n\t"
    )


def _tls_context(config: SmtpConfig) -> ssl.SSLContext:
    context = (
        ssl.create_default_context(cadata=config.tls.ca)
        if config.tls.ca
        else (ssl.create_default_context())
    )
    if not config.tls.reject_unauthorized:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def smtp_error(error: BaseException, recipient: str) -> ConnectorError:
    """The `ConnectorError` an SMTP failure means; the recipient never appears in it."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return InvalidCertificateError(error=type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return AuthorizationFailedError(
            "The SMTP server refused the credentials.", provider_code=error.code
        )
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return ConnectorTimeoutError(error=type(error).__name__)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return ConnectorError(
            "The SMTP server does not offer what the config requires (STARTTLS or the sign-in "
            "method).",
            error=type(error).__name__,
        )
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = error.recipients[0] if error.recipients else None
        code = refused.code if refused else None
        return ConnectorError("The SMTP server refused the recipient.", provider_code=code)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        text = error.message.replace(recipient, "<recipient>")[:200]
        return ConnectorError(
            f"The SMTP server refused the message: {error.code} {text}",
            provider_code=error.code,
            provider_message=text,
        )
    if type(error) is aiosmtplib.SMTPException:  # the client's own refusal, e.g. no XOAUTH2
        text = error.message.replace(recipient, "<recipient>")[:200]
        return ConnectorError(f"The SMTP session failed: {text}", error="SMTPException")
    if isinstance(error, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError):
        return ConnectorUnreachableError(error=type(error).__name__)
    if isinstance(error, ssl.SSLError | OSError):
        return ConnectorUnreachableError(error=type(error).__name__)
    log.error("smtp send raised %s", type(error).__name__)
    return ConnectorError("The SMTP send failed unexpectedly.", error=type(error).__name__)


async def _deliver_nowhere(mime: MimeMessage, config: SmtpConfig) -> None:
    """The conformance kit's double: the message is composed, nothing is sent."""


FACTORY: ConnectorFactory[SmtpConfig] = ConnectorFactory(
    id=FACTORY_ID,
    target="smtp",
    name="SMTP",
    description="Send email through any SMTP server, with TLS or STARTTLS.",
    config_model=SmtpConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "host": "smtp.example.com",
        "port": 587,
        "auth": sample_auth(),
        "fromEmail": "no-reply@example.com",
        "templates": default_email_templates(),
    },
    create=SmtpConnector,
    type=ConnectorType.EMAIL,
    test_options=lambda: {"deliver": _deliver_nowhere},
)
