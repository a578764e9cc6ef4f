"""Logto's SMTP connector config (`connector-smtp` `smtpConfigGuard`): the same keys, validated.

Nodemailer-only switches (`logger`, `debug`, `disableFileAccess`, `disableUrlAccess`,
`dnsTimeout`, `localAddress`) are accepted so a Logto config validates unchanged; phoneauth has no
use for them and ignores them.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from phoneauth.connectors.base import UsageType
from phoneauth.connectors.config import (
    ALLOW_PRIVATE_HOSTS,
    ConnectorConfig,
    EmailTemplates,
    EndpointUrl,
)
from phoneauth.connectors.destinations import is_private_literal

REQUIRED_USAGE_TYPES = (
    UsageType.REGISTER,
    UsageType.SIGN_IN,
    UsageType.FORGOT_PASSWORD,
    UsageType.GENERIC,
)
"""Logto refuses an SMTP config whose templates miss one of these."""

DEFAULT_ACCESS_URL = "https://accounts.google.com/o/oauth2/token"
"""nodemailer's token endpoint when `auth.accessUrl` is not set (Google's)."""

_HOST = re.compile(r"[A-Za-z0-9._-]{1,253}|\[?[0-9A-Fa-f:.]+\]?")
_LINE_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def _check_host(value: str, info: ValidationInfo) -> str:
    if not _HOST.fullmatch(value):
        raise ValueError("must be a host name or an IP address, without scheme or port")
    context = info.context if isinstance(info.context, dict) else {}
    if not context.get(ALLOW_PRIVATE_HOSTS, True) and is_private_literal(value):
        raise ValueError(
            "must name a public host, not a loopback, private or link-local address "
            "(the operator can allow those with PHONEAUTH_CONNECTOR_ALLOW_PRIVATE_HOSTS)"
        )
    return value.strip("[]")


def _check_mailbox(value: str) -> str:
    """`jane@example.com` or `Jane <jane@example.com>`, one line."""
    if _LINE_UNSAFE.search(value):
        raise ValueError("must be one line without control characters")
    _name, address = parseaddr(value)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("must be an email address, e.g. no-reply@example.com") from None
    return value


def _check_header_value(value: str) -> str:
    if _LINE_UNSAFE.search(value):
        raise ValueError("is an email header: one line, no control characters")
    return value


Mailbox = Annotated[str, AfterValidator(_check_mailbox)]
HeaderName = Annotated[str, Field(pattern=r"^[!-9;-~]{1,76}$")]
HeaderValue = Annotated[str, AfterValidator(_check_header_value), Field(max_length=998)]
Milliseconds = Annotated[int, Field(gt=0, le=3_600_000)]


class SmtpAuth(ConnectorConfig):
    """Logto's `auth`: a login (`user`, `pass`) or OAuth2 (XOAUTH2) with an access token that
    phoneauth refreshes itself when given a refresh token and the OAuth2 client, as nodemailer does.
    """

    type: str | None = Field(default=None, title="Type", description="`login` or `OAuth2`.")
    user: str | None = Field(default=None, title="User")
    password: SecretStr | None = Field(default=None, alias="pass", title="Password")
    client_id: str | None = Field(default=None, alias="clientId", title="OAuth2 client ID")
    client_secret: SecretStr | None = Field(
        default=None, alias="clientSecret", title="OAuth2 client secret"
    )
    refresh_token: SecretStr | None = Field(
        default=None, alias="refreshToken", title="OAuth2 refresh token"
    )
    access_token: SecretStr | None = Field(
        default=None, alias="accessToken", title="OAuth2 access token"
    )
    expires: int | None = Field(
        default=None,
        ge=0,
        title="Access token expiry",
        description="When `accessToken` expires, in epoch milliseconds.",
    )
    access_url: EndpointUrl | None = Field(
        default=None,
        alias="accessUrl",
        title="OAuth2 token endpoint",
        description=f"Where refresh tokens are exchanged; default `{DEFAULT_ACCESS_URL}`.",
    )
    private_key: SecretStr | None = Field(default=None, alias="privateKey")
    service_client: str | None = Field(default=None, alias="serviceClient")

    @property
    def is_oauth2(self) -> bool:
        return (self.type or "login").lower() == "oauth2"

    @property
    def can_refresh(self) -> bool:
        """Whether phoneauth can obtain access tokens itself (refresh_token grant)."""
        return None not in (self.refresh_token, self.client_id, self.client_secret)

    @model_validator(mode="after")
    def _usable(self) -> SmtpAuth:
        if (self.type or "login").lower() not in ("login", "oauth2"):
            raise ValueError("type must be login or OAuth2")
        if not self.is_oauth2:
            return self
        if not self.user:
            raise ValueError("OAuth2 needs user: the mailbox to sign in as")
        if self.access_token is None and not self.can_refresh:
            named = {
                "refreshToken": self.refresh_token,
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
            }
            missing = ", ".join(key for key, value in named.items() if value is None)
            raise ValueError(
                "OAuth2 needs accessToken, or refreshToken, clientId and clientSecret to obtain "
                f"one (missing: {missing}); service accounts (privateKey) are not supported"
            )
        return self


class SmtpTls(BaseModel):
    """Nodemailer's `tls` options that phoneauth honours; any other key is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    reject_unauthorized: bool = Field(
        default=True,
        alias="rejectUnauthorized",
        description="`false` accepts any certificate: for a test server only.",
    )
    ca: str | None = Field(
        default=None, description="PEM certificate(s) to trust, e.g. a private CA's."
    )
    servername: str | None = None


class SmtpConfig(ConnectorConfig):
    host: Annotated[str, AfterValidator(_check_host)] = Field(
        title="Host", description="The SMTP server, e.g. `smtp.example.com`."
    )
    port: int = Field(ge=1, le=65535, title="Port", description="587 (STARTTLS) or 465 (TLS).")
    auth: SmtpAuth = Field(
        title="Auth",
        description='`{"user": …, "pass": …}`, or `{"type": "OAuth2", "user": …, '
        '"refreshToken": …, "clientId": …, "clientSecret": …}` (see the README).',
    )
    from_email: Mailbox = Field(
        alias="fromEmail", title="From email", description="`no-reply@example.com`."
    )
    templates: EmailTemplates
    reply_to: Mailbox | None = Field(default=None, alias="replyTo", title="Reply to")
    secure: bool = Field(
        default=False,
        title="Secure",
        description="TLS from the first byte (port 465); otherwise STARTTLS when offered.",
    )
    tls: SmtpTls = Field(default_factory=SmtpTls, title="TLS")
    servername: str | None = Field(default=None, description="Name to verify the certificate for.")
    ignore_tls: bool | None = Field(default=None, alias="ignoreTLS", title="Ignore TLS")
    require_tls: bool | None = Field(default=None, alias="requireTLS", title="Require TLS")
    connection_timeout: Milliseconds | None = Field(default=None, alias="connectionTimeout")
    greeting_timeout: Milliseconds | None = Field(default=None, alias="greetingTimeout")
    socket_timeout: Milliseconds | None = Field(default=None, alias="socketTimeout")
    dns_timeout: Milliseconds | None = Field(default=None, alias="dnsTimeout")
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$", title="EHLO name")
    local_address: str | None = Field(default=None, alias="localAddress")
    logger: bool | None = None
    debug: bool | None = None
    disable_file_access: bool | None = Field(default=None, alias="disableFileAccess")
    disable_url_access: bool | None = Field(default=None, alias="disableUrlAccess")
    custom_headers: dict[HeaderName, HeaderValue] | None = Field(
        default=None, alias="customHeaders", title="Custom headers"
    )

    @model_validator(mode="after")
    def _logto_rules(self) -> SmtpConfig:
        covered = {template.usage_type for template in self.templates if not template.locale}
        for usage in REQUIRED_USAGE_TYPES:
            if usage not in covered:
                raise ValueError(f"Template with UsageType ({usage.value}) should be provided!")
        if self.ignore_tls and self.require_tls:
            raise ValueError("ignoreTLS and requireTLS cannot both be true")
        return self


def sample_auth() -> dict[str, Any]:
    return {"type": "login", "user": "<username>", "pass": "<password>"}


TlsMode = Literal["implicit", "starttls-if-offered", "starttls-required", "none"]


def tls_mode(config: SmtpConfig) -> TlsMode:
    """Nodemailer's semantics of `secure`, `ignoreTLS` and `requireTLS`."""
    if config.secure:
        return "implicit"
    if config.ignore_tls:
        return "none"
    if config.require_tls:
        return "starttls-required"
    return "starttls-if-offered"
