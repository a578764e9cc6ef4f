"""Delivery statuses of providers without callbacks, asked for in the background.

Every round reads a bounded batch of recent rows still waiting for a final status (sent by a
connector whose factory polls, within the last `window`), asks each connector's provider once,
and applies what it answers through `DeliveryReports.apply`: forward only, as callbacks are.
Rows older than the window are left as they are: the provider has long forgotten them. A
factory whose status query needs the recipient's number (Aliyun) gets it opened from the row's
sealed copy, which every round clears from rows that have left the window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from phoneauth.connectors import ConnectorError
from phoneauth.connectors.receipts import PendingMessage, PollsDelivery
from phoneauth.domain.delivery_reports import DeliveryReports, ReportOutcome
from phoneauth.domain.ports import ReportingConnectors
from phoneauth.domain.sealed_recipients import SealedRecipients

log = logging.getLogger("phoneauth.delivery")


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A row waiting for its final status; `recipient_sealed` as the log keeps it (encrypted,
    or None for factories whose status query does not need the number)."""

    tenant_id: str
    connector_id: str
    provider_message_id: str
    created_at: datetime
    recipient_sealed: str | None = None

    def __repr__(self) -> str:
        return f"PendingDelivery({self.tenant_id!r}, {self.connector_id!r}, ...)"


class PendingDeliveryStore(Protocol):
    async def pending_deliveries(
        self, since: datetime, factory_ids: Sequence[str], limit: int
    ) -> list[PendingDelivery]:
        """Sent rows of these factories created since `since` whose delivery status is not
        final yet (`accepted` or `sent`), oldest first, at most `limit`."""
        ...

    async def forget_recipients(self, before: datetime) -> int:
        """Clear the sealed recipient of every row created before `before`; how many."""
        ...


class DeliveryPolling:
    def __init__(
        self,
        connectors: ReportingConnectors,
        store: PendingDeliveryStore,
        reports: DeliveryReports,
        factory_ids: Sequence[str],
        clock: Callable[[], datetime],
        *,
        window: timedelta = timedelta(hours=6),
        batch: int = 200,
        recipients: SealedRecipients | None = None,
    ) -> None:
        self.connectors = connectors
        self.store = store
        self.reports = reports
        self.factory_ids = list(factory_ids)
        self.clock = clock
        self.window = window
        self.batch = batch
        self.recipients = recipients
        self._failing: dict[tuple[str, str], str] = {}  # logged once per connector and code

    async def poll_once(self) -> int:
        """One round; how many rows moved. A provider's failure skips only its connector."""
        if not self.factory_ids:
            return 0
        since = self.clock() - self.window
        if self.recipients is not None:
            await self.store.forget_recipients(since)  # no longer asked for: not kept either
        pending = await self.store.pending_deliveries(since, self.factory_ids, self.batch)
        groups: dict[tuple[str, str], list[PendingMessage]] = {}
        for row in pending:
            groups.setdefault((row.tenant_id, row.connector_id), []).append(self._message(row))
        moved = 0
        for (tenant_id, row_id), messages in groups.items():
            found = await self.connectors.find(tenant_id, row_id)
            if found is None or not isinstance(found.connector, PollsDelivery):
                continue  # removed, or changed to another provider since
            try:
                reports = await found.connector.poll_delivery(messages)
            except ConnectorError as error:
                if self._failing.get((tenant_id, row_id)) != error.code:
                    log.warning(
                        "delivery status poll of %s failed (%s: %s); retried every round, "
                        "logged again when the reason changes",
                        found.factory_id,
                        error.code,
                        error.details.get("provider_code", "-"),
                    )
                self._failing[(tenant_id, row_id)] = error.code
                continue
            self._failing.pop((tenant_id, row_id), None)
            outcomes = await self.reports.apply(tenant_id, row_id, reports)
            moved += outcomes.count(ReportOutcome.APPLIED)
        return moved

    def _message(self, row: PendingDelivery) -> PendingMessage:
        opened = None if self.recipients is None else self.recipients.open(row.recipient_sealed)
        return PendingMessage(row.provider_message_id, opened, row.created_at)


async def run_delivery_polling(
    polling: DeliveryPolling, *, every: float = 60.0, first_after: float = 20.0
) -> None:
    """Poll every `every` seconds until cancelled (the app lifespan runs this)."""
    await asyncio.sleep(first_after)
    while True:
        try:
            moved = await polling.poll_once()
            if moved:
                log.info("delivery statuses polled: %d messages moved", moved)
        except Exception:
            log.exception("delivery status polling failed; trying again in %d s", every)
        await asyncio.sleep(every)
