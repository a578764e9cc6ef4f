"""Delivery receipts: what a provider reports after it took a message, read from its callback.

A provider that posts status callbacks gives its factory a `CallbackReceipts`: it checks the
request's signature with the connector's saved config and turns the provider's vocabulary into
`DeliveryReport`s with the normalised `ReportedStatus` (the provider's own code kept beside).
Pure library: no web framework; the service hands over the request as a `CallbackRequest`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import parse_qsl

from phoneauth.errors import PhoneauthError


class ReportedStatus(StrEnum):
    """The normalised delivery states (`accepted → sent → delivered | undelivered | failed`)."""

    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One message's status as the provider reported it.

    Attributes:
        provider_message_id: the id the provider gave when it took the message.
        status: the provider's status, normalised.
        provider_code: the provider's own error code when it gave one, else its status word.
    """

    provider_message_id: str
    status: ReportedStatus
    provider_code: str | None = None


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """One sent message whose final status a poller asks its provider for.

    Attributes:
        provider_message_id: the id the provider gave when it took the message.
        recipient: the E.164 number, only for a factory whose status query needs it
            (`status_query_needs_recipient`) and only while the message waits; else None.
            Never to be logged.
        sent_at: when it was sent (aware UTC), for queries by send date.
    """

    provider_message_id: str
    recipient: str | None
    sent_at: datetime

    def __repr__(self) -> str:  # the recipient stays out of tracebacks and debug output
        return f"PendingMessage({self.provider_message_id!r}, sent_at={self.sent_at!r})"


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """The provider's HTTP request as received.

    Attributes:
        method: `POST` or `GET`.
        url: the full URL the provider called, query included: the `status_callback` given.
        headers: lower-case names.
        body: the raw body.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.url.partition("?")[2], keep_blank_values=True)

    def form(self) -> list[tuple[str, str]]:
        """The body as `application/x-www-form-urlencoded`; `MalformedReportError` otherwise."""
        if self.content_type != "application/x-www-form-urlencoded":
            raise MalformedReportError("The report must be a form (x-www-form-urlencoded).")
        try:
            return parse_qsl(self.body.decode(), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise MalformedReportError("The report's form body cannot be read.") from None


class DeliveryReportError(PhoneauthError):
    """A delivery report was refused; nothing changed."""

    code: ClassVar[str] = "delivery_report.general"
    status: ClassVar[int] = 400


class ReportSignatureError(DeliveryReportError):
    """The report's signature is missing or wrong; it was not applied."""

    code = "delivery_report.invalid_signature"
    status = 401


class MalformedReportError(DeliveryReportError):
    """The report's body cannot be read as the provider's delivery report."""

    code = "delivery_report.invalid_body"
    status = 400


class ReportsNotSupportedError(DeliveryReportError):
    """This connector takes no delivery reports (its provider sends none, or it is not set up
    to check their signature)."""

    code = "delivery_report.not_supported"
    status = 404


class CallbackReceipts(Protocol):
    """What a factory whose provider posts status callbacks declares."""

    def read(self, config: Any, request: CallbackRequest) -> Sequence[DeliveryReport]:
        """The reports in the request, after checking its signature with `config` (the
        connector's validated config): `ReportSignatureError`, `MalformedReportError`, or
        `ReportsNotSupportedError` when the config cannot check signatures."""
        ...


@runtime_checkable
class ReportsDelivery(Protocol):
    """A connector that will report its messages' delivery (and takes `status_callback`)."""

    @property
    def reports_delivery(self) -> bool: ...


@runtime_checkable
class PollsDelivery(Protocol):
    """A connector whose provider is asked for its messages' status (no callbacks)."""

    async def poll_delivery(self, messages: Sequence[PendingMessage]) -> list[DeliveryReport]:
        """Reports for these messages, or for whatever the provider has ready (a status queue
        may answer for other ids too, and for none of these); a `ConnectorError` on failure."""
        ...


def reports_delivery(connector: object) -> bool:
    """Whether a built connector's messages will get delivery reports (`ReportsDelivery`).

    Read as an attribute, not by `isinstance` with the protocol: on Python 3.11 that check
    walks the protocol's members on every call, a few percent of every send."""
    return getattr(connector, "reports_delivery", False) is True


def one(params: Sequence[tuple[str, str]], name: str) -> str:
    """The single value of a required parameter, or `MalformedReportError`."""
    values = [value for key, value in params if key == name]
    if len(values) != 1 or not values[0]:
        raise MalformedReportError(f"The report needs exactly one `{name}`.", field=name)
    return values[0]
