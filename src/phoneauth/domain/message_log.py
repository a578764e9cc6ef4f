"""The message log: one entry per send attempt, so operators see what reached which provider.

An entry names the connector, the usage type, the masked phone number, the outcome, the
provider's message id or error, and the latency. It never holds the code or the full number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from phoneauth.connectors import SmsMessage, UsageType, mask_phone
from phoneauth.connectors.segments import Encoding, SmsSize, measure
from phoneauth.domain.metrics import NO_METRICS, Metrics

MAX_PAGE_SIZE = 100
_MAX_ERROR_MESSAGE = 1024


class Channel(StrEnum):
    """How a message travels, read from its masked recipient (an address keeps its `@`)."""

    SMS = "sms"
    EMAIL = "email"


class MessageStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    TEST = "test"
    """A test phone number's code: stored, never sent (tenant setting `testPhoneNumbers`).
    Not a connector test send: that one is `sent` or `failed` with `test_send` set."""


class DeliveryStatus(StrEnum):
    """What the provider reported after taking the message, normalised across providers.

    A status only ever moves forward (`rank`): a duplicate or late report of an earlier state
    changes nothing, and a final one (`delivered`, `undelivered`, `failed`) is never replaced."""

    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        return _DELIVERY_RANK[self]

    @property
    def final(self) -> bool:
        return self.rank == _FINAL_RANK


_FINAL_RANK = 2
_DELIVERY_RANK = {
    DeliveryStatus.ACCEPTED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: _FINAL_RANK,
    DeliveryStatus.UNDELIVERED: _FINAL_RANK,
    DeliveryStatus.FAILED: _FINAL_RANK,
}


@dataclass(frozen=True, slots=True)
class MessageLogEntry:
    """One send attempt.

    Attributes:
        connector_id: the saved connector's id (`GET /api/connectors/{id}`), None if none was set.
        factory_id: the connector factory, e.g. `twilio-short-message-service`.
        phone_masked: `mask_phone(e164)`: country and last four digits only; for an email,
            `mask_email(address)` (the name predates email).
        test_send: a connector test (console "Send test" or the API's test route, code 000000),
            not a code sent to a user.
        send_id: shared by the attempts of one send (failover), `attempt` counting from 1.
        code_id: the verification code this attempt carried (None for test sends).
        country: the recipient's ISO 3166 region (`DE`), None for an email or unknown.
        delivery_status: what the provider reported after taking it (None: no report yet, or
            a provider without reports); `delivery_code` its own status or error code;
            `delivery_latency_ms` from the send to the final report.
        recipient_sealed: the full number, encrypted (`SealedRecipients`), only for a provider
            whose status query needs it and only until the row is final or leaves the polling
            window. Never shown, never logged.
        encoding, segments, characters: the SMS text's alphabet (`GSM-7`, `UCS-2`), billed
            parts and length as the SMS counts it (`connectors/segments.py`), autofill lines
            included; None when phoneauth does not know the text (a provider that keeps the
            templates, such as Aliyun or Tencent, the HTTP SMS gateway, an email).
    """

    id: str
    tenant_id: str
    created_at: datetime
    connector_id: str | None
    factory_id: str | None
    usage_type: str
    phone_masked: str
    status: MessageStatus
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    latency_ms: int | None = None
    test_send: bool = False
    send_id: str | None = None
    attempt: int | None = None
    code_id: str | None = None
    country: str | None = None
    delivery_status: DeliveryStatus | None = None
    delivery_code: str | None = None
    delivery_updated_at: datetime | None = None
    delivery_latency_ms: int | None = None
    recipient_sealed: str | None = field(default=None, repr=False)
    encoding: Encoding | None = None
    segments: int | None = None
    characters: int | None = None

    def __post_init__(self) -> None:
        if self.error_message is not None and len(self.error_message) > _MAX_ERROR_MESSAGE:
            object.__setattr__(self, "error_message", self.error_message[:_MAX_ERROR_MESSAGE])

    @property
    def channel(self) -> Channel:
        """Derived, not stored: a masked address always keeps its `@`, a masked number never
        has one, so the rows written before email need no migration."""
        return Channel.EMAIL if "@" in self.phone_masked else Channel.SMS


def sms_size(connector: object, message: SmsMessage) -> SmsSize | None:
    """The size of the text `connector` sends for `message`, when it says which (`RendersText`).

    Never raises: a connector that cannot render reports it through its send. The method is
    looked up, not checked by `isinstance` with the protocol (a walk of its members on every
    send on Python 3.11)."""
    sms_text = getattr(connector, "sms_text", None)
    if not callable(sms_text):
        return None
    try:
        text = sms_text(message)
    except Exception:  # the send that follows reports the same trouble
        return None
    return None if text is None else measure(text)


@dataclass(frozen=True, slots=True)
class MessageLogQuery:
    """Filters and a page; `phone_masked` matches the masked form the log keeps."""

    status: MessageStatus | None = None
    phone_masked: str | None = None
    usage_type: UsageType | None = None
    factory_id: str | None = None
    delivery_status: DeliveryStatus | None = None
    page: int = 1
    page_size: int = 20

    def __post_init__(self) -> None:
        if self.page < 1 or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError("page >= 1 and 1 <= page_size <= 100")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class MessageLogPage:
    entries: list[MessageLogEntry]
    total: int


class MessageLogStore(Protocol):
    async def add(self, entry: MessageLogEntry) -> None: ...
    async def query(self, tenant_id: str, query: MessageLogQuery) -> MessageLogPage:
        """Newest first."""
        ...

    async def delete_before(self, tenant_id: str, before: datetime) -> int: ...


class MessageLog:
    """Every send attempt passes through `record`, so it is also where attempts are counted."""

    def __init__(self, store: MessageLogStore, *, metrics: Metrics = NO_METRICS) -> None:
        self.store = store
        self.metrics = metrics

    async def record(self, entry: MessageLogEntry) -> None:
        # Counted first: the attempt happened even when the database cannot keep its row.
        self.metrics.message_attempted(entry)
        await self.store.add(entry)

    async def query(
        self,
        tenant_id: str,
        *,
        status: MessageStatus | None = None,
        phone: str | None = None,
        usage_type: UsageType | None = None,
        factory_id: str | None = None,
        delivery_status: DeliveryStatus | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> MessageLogPage:
        """Entries of one tenant; `phone` is an E.164 number, matched through its mask;
        `factory_id` the connector that sent (`twilio-short-message-service`);
        `delivery_status` what its provider reported last."""
        query = MessageLogQuery(
            status=status,
            phone_masked=None if phone is None else mask_phone(phone),
            usage_type=usage_type,
            factory_id=factory_id,
            delivery_status=delivery_status,
            page=page,
            page_size=page_size,
        )
        return await self.store.query(tenant_id, query)
