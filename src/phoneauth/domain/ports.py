"""Contracts between domain services that are built by different modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from phoneauth.connectors import Connector, EmailConnector
from phoneauth.connectors.receipts import CallbackReceipts


@dataclass(frozen=True, slots=True)
class ActiveConnector:
    """The tenant's SMS connector, ready to send, with the ids the message log records."""

    row_id: str
    factory_id: str
    connector: Connector


@dataclass(frozen=True, slots=True)
class ActiveEmailConnector:
    """The tenant's Email connector, ready to send, with the ids the message log records."""

    row_id: str
    factory_id: str
    connector: EmailConnector


class SmsConnectorSource(Protocol):
    """Where the codes engine finds the tenant's active SMS connector, read fresh for every send
    so a "change connector" takes effect at once on every instance."""

    async def active_sms_connector(self, tenant_id: str) -> ActiveConnector | None: ...


@runtime_checkable
class EmailConnectorSource(Protocol):
    """Where email sends find the tenant's active Email connector, read fresh for every send."""

    async def active_email_connector(self, tenant_id: str) -> ActiveEmailConnector | None: ...


@dataclass(frozen=True, slots=True)
class ReportingConnector:
    """A saved SMS connector as its delivery reports need it: the factory's receipt reader
    (None: the provider posts none) and the decrypted, validated config that checks them."""

    row_id: str
    factory_id: str
    config: Any
    receipts: CallbackReceipts | None
    connector: Connector | None = None
    """Built from the config, for providers that are polled (`PollsDelivery`)."""


class ReportingConnectors(Protocol):
    """Where delivery reports find the connector a report names (`/api/connectors/{id}/...`)."""

    async def find(self, tenant_id: str, row_id: str) -> ReportingConnector | None:
        """The tenant's SMS connector with this row id; None when the tenant has none such."""
        ...
