"""The message log in SQL: append, query newest first with filters, delete past retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    cast,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from phoneauth.connectors.segments import Encoding
from phoneauth.domain.delivery_polling import PendingDelivery
from phoneauth.domain.delivery_reports import MovedDelivery, ReportOutcome
from phoneauth.domain.message_log import (
    DeliveryStatus,
    MessageLogEntry,
    MessageLogPage,
    MessageLogQuery,
    MessageStatus,
)
from phoneauth.storage.batched_deletes import delete_in_batches
from phoneauth.storage.database import Database, changed_rows, first_row
from phoneauth.storage.grouped_inserts import GroupedInsert
from phoneauth.storage.models import MessageLogRow
from phoneauth.storage.models.base import UtcDateTime
from phoneauth.storage.prepared import Prepared


def _entry(row: MessageLogRow) -> MessageLogEntry:
    return MessageLogEntry(
        id=row.id,
        tenant_id=row.tenant_id,
        created_at=row.created_at,
        connector_id=row.connector_id,
        factory_id=row.factory_id,
        usage_type=row.usage_type,
        phone_masked=row.phone_masked,
        status=MessageStatus(row.status),
        provider_message_id=row.provider_message_id,
        error_code=row.error_code,
        error_message=row.error_message,
        latency_ms=row.latency_ms,
        test_send=row.test_send,
        send_id=row.send_id,
        attempt=row.attempt,
        code_id=row.code_id,
        country=row.country,
        delivery_status=None
        if row.delivery_status is None
        else DeliveryStatus(row.delivery_status),
        delivery_code=row.delivery_code,
        delivery_updated_at=row.delivery_updated_at,
        delivery_latency_ms=row.delivery_latency_ms,
        recipient_sealed=row.recipient_sealed,
        encoding=_encoding(row.encoding),
        segments=row.segments,
        characters=row.characters,
    )


def _encoding(value: str | None) -> Encoding | None:
    if value == "GSM-7":
        return "GSM-7"
    return "UCS-2" if value == "UCS-2" else None


def _filters(tenant_id: str, query: MessageLogQuery) -> list[ColumnElement[bool]]:
    conditions = [MessageLogRow.tenant_id == tenant_id]
    if query.status is not None:
        conditions.append(MessageLogRow.status == query.status.value)
    if query.phone_masked is not None:
        conditions.append(MessageLogRow.phone_masked == query.phone_masked)
    if query.usage_type is not None:
        conditions.append(MessageLogRow.usage_type == query.usage_type.value)
    if query.factory_id is not None:
        conditions.append(MessageLogRow.factory_id == query.factory_id)
    if query.delivery_status is not None:
        conditions.append(MessageLogRow.delivery_status == query.delivery_status.value)
    return conditions


def _moved(row: Row[Any]) -> MovedDelivery:
    factory_id, country, latency_ms = tuple(row)
    return MovedDelivery(factory_id, country, latency_ms)


# Built once: every send appends a row.
_TABLE = MessageLogRow.metadata.tables["message_log"]
_INSERT = Prepared(insert(_TABLE))


PRUNE_BATCH = 1_000  # entries deleted per statement of a prune


class SqlMessageLogStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        self._inserts = GroupedInsert(database, _INSERT)

    async def add(self, entry: MessageLogEntry) -> None:
        # A Core INSERT: every send writes one row, and the ORM's unit of work would cost
        # several times the statement itself. Rows of sends in the same loop turn are
        # committed together (`GroupedInsert`).
        row = {
            "id": entry.id,
            "tenant_id": entry.tenant_id,
            "created_at": entry.created_at,
            "connector_id": entry.connector_id,
            "factory_id": entry.factory_id,
            "usage_type": entry.usage_type,
            "phone_masked": entry.phone_masked,
            "status": entry.status.value,
            "provider_message_id": entry.provider_message_id,
            "error_code": entry.error_code,
            "error_message": entry.error_message,
            "latency_ms": entry.latency_ms,
            "test_send": entry.test_send,
            "send_id": entry.send_id,
            "attempt": entry.attempt,
            "code_id": entry.code_id,
            "country": entry.country,
            "delivery_status": None
            if entry.delivery_status is None
            else entry.delivery_status.value,
            "delivery_code": entry.delivery_code,
            "delivery_updated_at": entry.delivery_updated_at,
            "delivery_latency_ms": entry.delivery_latency_ms,
            "recipient_sealed": entry.recipient_sealed,
            "encoding": entry.encoding,
            "segments": entry.segments,
            "characters": entry.characters,
        }
        await self._inserts.add(row)

    async def query(self, tenant_id: str, query: MessageLogQuery) -> MessageLogPage:
        conditions = _filters(tenant_id, query)

        def unit(session: Session) -> MessageLogPage:
            total = session.scalar(
                select(func.count()).select_from(MessageLogRow).where(*conditions)
            )
            rows = session.scalars(
                select(MessageLogRow)
                .where(*conditions)
                .order_by(MessageLogRow.created_at.desc(), MessageLogRow.id.desc())
                .offset(query.offset)
                .limit(query.page_size)
            )
            return MessageLogPage([_entry(row) for row in rows], int(total or 0))

        return await self.db.read(unit)

    async def apply_delivery(
        self,
        tenant_id: str,
        connector_id: str,
        provider_message_id: str,
        status: DeliveryStatus,
        provider_code: str | None,
        at: datetime,
    ) -> MovedDelivery | ReportOutcome:
        """One conditional UPDATE: only a row whose status is behind `status` moves, so two
        reports racing each other can never leave the earlier state. What moved is returned
        by the same statement (metrics label it by connector and country)."""
        row = (
            _TABLE.c.tenant_id == tenant_id,
            _TABLE.c.connector_id == connector_id,
            _TABLE.c.provider_message_id == provider_message_id,
        )
        behind = [earlier.value for earlier in DeliveryStatus if earlier.rank < status.rank]
        values: dict[str, object] = {
            "delivery_status": status.value,
            "delivery_code": provider_code,
            "delivery_updated_at": at,
        }
        if status.final:
            values["delivery_latency_ms"] = self._elapsed_ms(at)
            values["recipient_sealed"] = None  # no poller needs the number any more
        statement = (
            update(_TABLE)
            .where(
                *row,
                _TABLE.c.status == MessageStatus.SENT.value,
                or_(_TABLE.c.delivery_status.is_(None), _TABLE.c.delivery_status.in_(behind)),
            )
            .values(values)
            .returning(_TABLE.c.factory_id, _TABLE.c.country, _TABLE.c.delivery_latency_ms)
        )
        moved = await self.db.write(
            first_row(statement, {}, _moved),
            single_statement=True,
        )
        if moved is not None:
            return moved
        # Nothing moved: tell an unknown message from one already as far (rare, so a second read).
        found = await self.db.read(
            lambda session: session.scalar(select(func.count()).select_from(_TABLE).where(*row))
        )
        return ReportOutcome.UNCHANGED if found else ReportOutcome.UNKNOWN

    async def pending_deliveries(
        self, since: datetime, factory_ids: Sequence[str], limit: int
    ) -> list[PendingDelivery]:
        """Read through the (delivery_status, created_at) index of migration 0011."""
        waiting = (DeliveryStatus.ACCEPTED.value, DeliveryStatus.SENT.value)
        query = (
            select(
                _TABLE.c.tenant_id,
                _TABLE.c.connector_id,
                _TABLE.c.provider_message_id,
                _TABLE.c.created_at,
                _TABLE.c.recipient_sealed,
            )
            .where(
                _TABLE.c.delivery_status.in_(waiting),
                _TABLE.c.created_at >= since,
                _TABLE.c.factory_id.in_(list(factory_ids)),
                _TABLE.c.status == MessageStatus.SENT.value,
                _TABLE.c.connector_id.is_not(None),
                _TABLE.c.provider_message_id.is_not(None),
            )
            .order_by(_TABLE.c.created_at)
            .limit(limit)
        )

        def unit(session: Session) -> list[PendingDelivery]:
            return [PendingDelivery(*row) for row in session.execute(query)]

        return await self.db.read(unit)

    async def forget_recipients(self, before: datetime) -> int:
        """Clear sealed recipients of rows created before `before` (past the polling window),
        through the partial index of migration 0012, which holds only rows that keep one."""
        statement = (
            update(_TABLE)
            .where(_TABLE.c.recipient_sealed.is_not(None), _TABLE.c.created_at < before)
            .values(recipient_sealed=None)
        )
        return await self.db.write(changed_rows(statement), single_statement=True)

    def _elapsed_ms(self, at: datetime) -> ColumnElement[int]:
        """Milliseconds from the row's `created_at` to `at`, computed by the database."""
        moment = literal(at, UtcDateTime())
        if self.db.is_sqlite:  # naive UTC text: Julian days
            days = func.julianday(moment) - func.julianday(_TABLE.c.created_at)
            return cast(func.round(days * 86_400_000), Integer)
        seconds = extract("epoch", moment - _TABLE.c.created_at)
        return cast(func.round(seconds * 1000), Integer)

    async def delete_before(self, tenant_id: str, before: datetime) -> int:
        """In batches of `PRUNE_BATCH` entries, oldest first (the tenant and time index finds
        them), other requests served between batches (`between_batches`): one DELETE of an
        hour's or a month's entries held the event loop (SQLite) or a long transaction
        (PostgreSQL) for all of them."""
        conditions = (MessageLogRow.tenant_id == tenant_id, MessageLogRow.created_at < before)
        return await delete_in_batches(
            self.db,
            MessageLogRow,
            MessageLogRow.id,
            MessageLogRow.created_at,
            conditions,
            PRUNE_BATCH,
        )
