"""The value types every connector speaks: types, usage types, messages, results, protocols."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from email_validator import EmailNotValidError, validate_email

from phoneauth.connectors.autofill import Autofill
from phoneauth.connectors.errors import InvalidRequestParametersError

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_SEPARATORS = re.compile(r"[\s().\-]")


class ConnectorType(StrEnum):
    """Logto's `ConnectorType` for message connectors: what a connector sends."""

    SMS = "Sms"
    EMAIL = "Email"


class UsageType(StrEnum):
    """Why a code is sent: Logto's `TemplateType`, values equal to Logto's strings."""

    SIGN_IN = "SignIn"
    REGISTER = "Register"
    FORGOT_PASSWORD = "ForgotPassword"
    ORGANIZATION_INVITATION = "OrganizationInvitation"
    GENERIC = "Generic"
    USER_PERMISSION_VALIDATION = "UserPermissionValidation"
    BIND_NEW_IDENTIFIER = "BindNewIdentifier"
    MFA_VERIFICATION = "MfaVerification"
    BIND_MFA = "BindMfa"


def to_e164(phone: str) -> str:
    """Accept `+4915112345678`, Logto's digits-only `4915112345678` or `004915112345678`.

    The kit only checks the shape; the service parses numbers fully with `phonenumbers`.
    """
    cleaned = _SEPARATORS.sub("", phone)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    elif not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    if not _E164.fullmatch(cleaned):
        raise InvalidRequestParametersError(
            "The phone number must be in international format, e.g. +4915112345678.",
            field="to",
        )
    return cleaned


def mask_phone(phone: str) -> str:
    """Keep the country and the last four digits, so logs can correlate without exposing numbers."""
    if len(phone) <= 8:
        return phone[:2] + "*" * max(len(phone) - 2, 0)
    return phone[:5] + "*" * (len(phone) - 9) + phone[-4:]


def normalize_email(address: str) -> str:
    """The address with its domain lower-cased (IDNA-checked), or `InvalidRequestParametersError`.

    Syntax only, through `email-validator`: no DNS lookup on the send path.
    """
    try:
        checked = validate_email(address, check_deliverability=False)
    except (EmailNotValidError, TypeError):
        raise InvalidRequestParametersError(
            "The email address is not valid, e.g. jane@example.com.", field="to"
        ) from None
    return f"{checked.local_part}@{checked.ascii_domain.lower()}"


def mask_email(address: str) -> str:
    """The first character of the local part and the domain: enough to correlate, not to read."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One SMS to send.

    Attributes:
        to: the recipient; normalised to E.164 with `+` on construction.
        usage_type: why the message is sent; picks the template.
        payload: template variables: `code`, optional `locale` and anything else the template uses.
        ip: the end user's IP address, for providers and gateways that check it.
        status_callback: where the provider should report this message's delivery status
            (`<public URL>/api/connectors/{id}/delivery-reports`), for providers that take a
            callback URL per message; None asks for no report.
        autofill: the tenant's one-time-code autofill lines (WebOTP, Android app hash),
            appended by `templates.render_sms` for connectors that send text; None: none.
    """

    to: str
    usage_type: UsageType = UsageType.GENERIC
    payload: Mapping[str, Any] = field(default_factory=dict)
    ip: str | None = None
    status_callback: str | None = None
    autofill: Autofill | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", to_e164(self.to))
        object.__setattr__(self, "usage_type", UsageType(self.usage_type))

    @property
    def digits(self) -> str:
        """The number without `+`, as Logto stores it and many providers want it."""
        return self.to[1:]

    @property
    def locale(self) -> str | None:
        value = self.payload.get("locale")
        return value if isinstance(value, str) and value else None

    @property
    def masked_to(self) -> str:
        return mask_phone(self.to)

    def __repr__(self) -> str:
        # The payload carries the code: never print it.
        return f"SmsMessage(to={mask_phone(self.to)!r}, usage_type={self.usage_type.value!r})"


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One email to send.

    Attributes:
        to: the recipient; checked and its domain lower-cased on construction.
        usage_type: why the message is sent; picks the template.
        payload: template variables: `code`, optional `locale`, `link` and anything else.
        ip: the end user's IP address, for gateways that check it.
    """

    to: str
    usage_type: UsageType = UsageType.GENERIC
    payload: Mapping[str, Any] = field(default_factory=dict)
    ip: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", normalize_email(self.to))
        object.__setattr__(self, "usage_type", UsageType(self.usage_type))

    @property
    def locale(self) -> str | None:
        value = self.payload.get("locale")
        return value if isinstance(value, str) and value else None

    @property
    def masked_to(self) -> str:
        return mask_email(self.to)

    def __repr__(self) -> str:
        # Neither the address nor the code (in the payload) is printed.
        return f"EmailMessage(to={self.masked_to!r}, usage_type={self.usage_type.value!r})"


Message = SmsMessage | EmailMessage
"""What any message connector sends."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider said when it accepted the message.

    Attributes:
        provider_message_id: the provider's id for the message (Twilio `SM…`, Aliyun `BizId`, …).
        details: non-secret extras worth keeping in the message log (status, segments, fee).
    """

    provider_message_id: str | None
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """Anything that can send an SMS; the domain depends on this alone."""

    async def send(self, message: SmsMessage) -> SendResult:
        """Send the message, or raise a `ConnectorError`."""
        ...


@runtime_checkable
class RendersText(Protocol):
    """Optional beside `Connector`: a connector that renders the SMS text itself says which
    text a message will carry, so the message log can record its alphabet and billed parts.
    Without it (a provider that keeps the templates, a third-party connector) those stay
    unknown; nothing else changes."""

    def sms_text(self, message: SmsMessage) -> str | None:
        """The exact text `send(message)` would send (None: not known). No I/O."""
        ...


@runtime_checkable
class EmailConnector(Protocol):
    """Anything that can send an email (Logto's `ConnectorType.Email`)."""

    async def send(self, message: EmailMessage) -> SendResult:
        """Send the message, or raise a `ConnectorError`."""
        ...
