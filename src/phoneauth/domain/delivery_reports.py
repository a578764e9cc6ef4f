"""Delivery reports: what providers say after taking a message, applied to its message-log row.

A report moves a row's `delivery_status` forward only (`DeliveryStatus.rank`), in one
conditional UPDATE, so duplicates, replays and reports arriving out of order change nothing and
concurrent reports cannot race each other backwards. A final status is never replaced; its
`delivery_latency_ms` is the time from the send to when phoneauth learnt it.

A report that changes nothing is refused with a 4xx (issue 15): 404 for a message this
connector never sent, 409 for one whose status is already as far or further.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from phoneauth.connectors import SmsMessage
from phoneauth.connectors.receipts import (
    CallbackRequest,
    DeliveryReport,
    ReportsNotSupportedError,
    reports_delivery,
)
from phoneauth.domain.connector_management import ConnectorNotFoundError
from phoneauth.domain.message_log import DeliveryStatus
from phoneauth.domain.metrics import NO_METRICS, Metrics
from phoneauth.domain.ports import (
    ActiveConnector,
    ActiveEmailConnector,
    ReportingConnector,
    ReportingConnectors,
)
from phoneauth.domain.tenants import DEFAULT_TENANT_ID
from phoneauth.errors import PhoneauthError


class UnknownMessageError(PhoneauthError):
    """This connector sent no message with the reported id; nothing changed."""

    code = "delivery_report.unknown_message"
    status = 404


class OutdatedReportError(PhoneauthError):
    """The message already has this delivery status or a later one; nothing changed."""

    code = "delivery_report.outdated"
    status = 409


class ReportOutcome(Enum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    """The row exists, its status already as far or final."""
    UNKNOWN = "unknown"
    """No row of this tenant and connector has the provider's message id."""


@dataclass(frozen=True, slots=True)
class MovedDelivery:
    """A report that moved its row forward: what metrics label it by."""

    factory_id: str | None
    country: str | None
    latency_ms: int | None


class DeliveryStore(Protocol):
    async def apply_delivery(
        self,
        tenant_id: str,
        connector_id: str,
        provider_message_id: str,
        status: DeliveryStatus,
        provider_code: str | None,
        at: datetime,
    ) -> MovedDelivery | ReportOutcome:
        """Move the row forward to `status` if it is behind (one conditional UPDATE); a final
        status also sets the latency from the row's `created_at` to `at`. What moved, or why
        nothing did (`UNCHANGED`, `UNKNOWN`)."""
        ...


def tenant_base_url(public_url: str, tenant_id: str) -> str:
    """Where a tenant's API lives: the root for the default tenant, `/t/{id}` for the others."""
    base = public_url.rstrip("/")
    return base if tenant_id == DEFAULT_TENANT_ID else f"{base}/t/{tenant_id}"


def report_url(public_url: str, tenant_id: str, row_id: str) -> str:
    """The public URL a provider posts one connector's delivery reports to."""
    return f"{tenant_base_url(public_url, tenant_id)}/api/connectors/{row_id}/delivery-reports"


def with_status_callback(
    message: SmsMessage, public_url: str | None, tenant_id: str, active: ActiveConnector
) -> SmsMessage:
    """The message with its `status_callback` when the service has a public URL and the
    connector takes reports; else unchanged (no report URL on the provider request)."""
    if not public_url or not reports_delivery(active.connector):
        return message
    url = report_url(public_url, tenant_id, active.row_id)
    return dataclasses.replace(message, status_callback=url)


def initial_delivery_status(
    active: ActiveConnector | ActiveEmailConnector | None, provider_message_id: str | None
) -> DeliveryStatus | None:
    """`accepted` for a message a reporting connector took, so its row awaits reports."""
    if active is None or not provider_message_id or not reports_delivery(active.connector):
        return None
    return DeliveryStatus.ACCEPTED


class EveryReportingConnector:
    """`ReportingConnectors` over several sources, asked in turn: the saved connectors, then the
    standby ones (ids are unique across both)."""

    def __init__(self, *sources: ReportingConnectors) -> None:
        self.sources = sources

    async def find(self, tenant_id: str, row_id: str) -> ReportingConnector | None:
        for source in self.sources:
            found = await source.find(tenant_id, row_id)
            if found is not None:
                return found
        return None


class DeliveryReports:
    """Receives providers' callbacks and applies reports (callbacks and pollers alike)."""

    def __init__(
        self,
        connectors: ReportingConnectors,
        store: DeliveryStore,
        clock: Callable[[], datetime],
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.connectors = connectors
        self.store = store
        self.clock = clock
        self.metrics = metrics

    async def receive(self, tenant_id: str, row_id: str, request: CallbackRequest) -> int:
        """Check and apply one callback; the number of rows it moved (at least one).

        Raises:
            ConnectorNotFoundError: no such SMS connector in this tenant.
            ReportsNotSupportedError: its provider posts no reports, or it cannot check them.
            ReportSignatureError, MalformedReportError: from the provider's reader.
            UnknownMessageError, OutdatedReportError: the report changed nothing.
        """
        found = await self.connectors.find(tenant_id, row_id)
        if found is None:
            raise ConnectorNotFoundError(f"No SMS connector {row_id!r} in this tenant.")
        if found.receipts is None:
            raise ReportsNotSupportedError(factory_id=found.factory_id)
        reports = found.receipts.read(found.config, request)
        outcomes = await self.apply(tenant_id, row_id, reports)
        applied = outcomes.count(ReportOutcome.APPLIED)
        if applied:
            return applied
        if ReportOutcome.UNKNOWN in outcomes:
            raise UnknownMessageError()
        raise OutdatedReportError()

    async def apply(
        self, tenant_id: str, row_id: str, reports: Sequence[DeliveryReport]
    ) -> list[ReportOutcome]:
        """Apply reports of one connector's messages, each in one conditional UPDATE."""
        now = self.clock()
        outcomes: list[ReportOutcome] = []
        for report in reports:
            status = DeliveryStatus(report.status.value)
            moved = await self.store.apply_delivery(
                tenant_id,
                row_id,
                report.provider_message_id,
                status,
                None if report.provider_code is None else report.provider_code[:64],
                now,
            )
            if isinstance(moved, ReportOutcome):
                outcomes.append(moved)
                continue
            self.metrics.delivery_reported(
                tenant_id, moved.factory_id, moved.country, status, moved.latency_ms
            )
            outcomes.append(ReportOutcome.APPLIED)
        return outcomes
