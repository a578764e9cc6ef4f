"""Contracts between domain services that are built by different modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from phoneauth.connectors import Connector


@dataclass(frozen=True, slots=True)
class ActiveConnector:
    """The tenant's SMS connector, ready to send, with the ids the message log records."""

    row_id: str
    factory_id: str
    connector: Connector


class SmsConnectorSource(Protocol):
    """Where the codes engine finds the tenant's active SMS connector, read fresh for every send
    so a "change connector" takes effect at once on every instance."""

    async def active_sms_connector(self, tenant_id: str) -> ActiveConnector | None: ...
