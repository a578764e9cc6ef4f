"""Delivery reports in SQL: one conditional UPDATE moves a row forward only, on SQLite and
PostgreSQL alike; the latency is the database's own subtraction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import make_tenant, migrated
from tests.storage.test_message_log_store import START, entry

from phoneauth.domain.delivery_reports import MovedDelivery, ReportOutcome
from phoneauth.domain.message_log import (
    DeliveryStatus,
    MessageLogEntry,
    MessageLogQuery,
    MessageStatus,
)
from phoneauth.storage.repositories.message_log import SqlMessageLogStore

ACCEPTED, SENT = DeliveryStatus.ACCEPTED, DeliveryStatus.SENT
DELIVERED, UNDELIVERED, FAILED = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.UNDELIVERED,
    DeliveryStatus.FAILED,
)


@pytest.fixture
async def store(migrated_database: DatabaseUnderTest) -> AsyncIterator[SqlMessageLogStore]:
    database = await migrated(migrated_database)
    await make_tenant(database, "default")
    await make_tenant(database, "other")
    yield SqlMessageLogStore(database)
    await database.dispose()


async def row(store: SqlMessageLogStore, n: int, tenant_id: str = "default") -> MessageLogEntry:
    page = await store.query(tenant_id, MessageLogQuery(page_size=100))
    return next(e for e in page.entries if e.id == f"m{n:03d}")


async def apply(
    store: SqlMessageLogStore,
    status: DeliveryStatus,
    *,
    n: int = 1,
    code: str | None = None,
    after: timedelta = timedelta(seconds=3),
    tenant_id: str = "default",
    connector_id: str = "row-1",
) -> ReportOutcome:
    at = START + timedelta(minutes=n) + after
    moved = await store.apply_delivery(tenant_id, connector_id, f"p{n}", status, code, at)
    return ReportOutcome.APPLIED if isinstance(moved, MovedDelivery) else moved


async def test_the_update_answers_what_moved_for_the_metrics(store: SqlMessageLogStore) -> None:
    await store.add(entry(1, delivery_status=ACCEPTED, country="DE"))
    at = START + timedelta(minutes=1, seconds=2)
    sent = await store.apply_delivery("default", "row-1", "p1", SENT, None, at)
    assert sent == MovedDelivery("outbox-sms", "DE", None)
    final = await store.apply_delivery("default", "row-1", "p1", DELIVERED, "0", at)
    assert final == MovedDelivery("outbox-sms", "DE", 2000)


async def test_a_row_moves_forward_and_a_final_status_sets_the_latency(
    store: SqlMessageLogStore,
) -> None:
    await store.add(entry(1, delivery_status=ACCEPTED))
    assert (
        await apply(store, SENT, code="sent", after=timedelta(seconds=1)) is ReportOutcome.APPLIED
    )
    moved = await row(store, 1)
    assert (moved.delivery_status, moved.delivery_code, moved.delivery_latency_ms) == (
        SENT,
        "sent",
        None,
    )
    assert moved.delivery_updated_at == START + timedelta(minutes=1, seconds=1)
    after = timedelta(seconds=4, milliseconds=250)
    assert await apply(store, DELIVERED, code="delivered", after=after) is ReportOutcome.APPLIED
    done = await row(store, 1)
    assert (done.delivery_status, done.delivery_code, done.delivery_latency_ms) == (
        DELIVERED,
        "delivered",
        4250,
    )


async def test_duplicates_late_reports_and_finals_change_nothing(store: SqlMessageLogStore) -> None:
    await store.add(entry(1, delivery_status=ACCEPTED))
    assert await apply(store, UNDELIVERED, code="30003") is ReportOutcome.APPLIED
    before = await row(store, 1)
    for status in (ACCEPTED, SENT, UNDELIVERED, DELIVERED, FAILED):
        assert await apply(store, status, code="late", after=timedelta(hours=1)) is (
            ReportOutcome.UNCHANGED
        )
    assert await row(store, 1) == before


async def test_a_row_without_a_status_yet_takes_any(store: SqlMessageLogStore) -> None:
    await store.add(entry(1))  # logged before reports existed, or by a connector without them
    assert await apply(store, SENT) is ReportOutcome.APPLIED
    assert (await row(store, 1)).delivery_status is SENT


async def test_unknown_ids_other_connectors_and_other_tenants_change_nothing(
    store: SqlMessageLogStore,
) -> None:
    await store.add(entry(1, delivery_status=ACCEPTED))
    await store.add(entry(2, tenant_id="other", delivery_status=ACCEPTED))
    assert await apply(store, DELIVERED, n=9) is ReportOutcome.UNKNOWN
    assert await apply(store, DELIVERED, connector_id="row-2") is ReportOutcome.UNKNOWN
    # The other tenant's row, named from this tenant: unknown here, unchanged there.
    assert await apply(store, DELIVERED, n=2) is ReportOutcome.UNKNOWN
    assert (await row(store, 1)).delivery_status is ACCEPTED
    assert (await row(store, 2, "other")).delivery_status is ACCEPTED


async def test_a_failed_send_takes_no_report(store: SqlMessageLogStore) -> None:
    await store.add(entry(1, status=MessageStatus.FAILED, error_code="connector.timeout"))
    assert await apply(store, DELIVERED) is ReportOutcome.UNCHANGED
    assert (await row(store, 1)).delivery_status is None


async def test_racing_reports_end_at_the_furthest_status(store: SqlMessageLogStore) -> None:
    await store.add(entry(1, delivery_status=ACCEPTED))
    outcomes = await asyncio.gather(
        *(apply(store, status) for status in (SENT, DELIVERED, SENT, ACCEPTED, DELIVERED))
    )
    assert outcomes.count(ReportOutcome.APPLIED) in (1, 2)  # SENT may land before DELIVERED
    assert (await row(store, 1)).delivery_status is DELIVERED


async def test_the_log_filters_by_delivery_status(store: SqlMessageLogStore) -> None:
    await store.add(entry(1, delivery_status=ACCEPTED))
    await store.add(entry(2, delivery_status=ACCEPTED))
    await store.add(entry(3))
    await apply(store, DELIVERED, n=2)
    delivered = await store.query("default", MessageLogQuery(delivery_status=DELIVERED))
    waiting = await store.query("default", MessageLogQuery(delivery_status=ACCEPTED))
    assert [e.id for e in delivered.entries] == ["m002"]
    assert ([e.id for e in waiting.entries], waiting.total) == (["m001"], 1)


async def test_a_sealed_recipient_is_kept_only_while_the_row_waits(
    store: SqlMessageLogStore,
) -> None:
    """Migration 0012: the sealed number travels with the pending row, survives `sent`, and is
    cleared by the same UPDATE that makes the row final."""
    await store.add(entry(1, delivery_status=ACCEPTED, recipient_sealed="sealed-1"))
    await store.add(entry(2, delivery_status=ACCEPTED))
    [first, second] = await store.pending_deliveries(START, ["outbox-sms"], 10)
    assert (first.provider_message_id, first.recipient_sealed) == ("p1", "sealed-1")
    assert first.created_at == START + timedelta(minutes=1)
    assert second.recipient_sealed is None
    assert "sealed-1" not in repr(first)
    assert "sealed-1" not in repr(await row(store, 1))

    assert await apply(store, SENT) is ReportOutcome.APPLIED
    assert (await row(store, 1)).recipient_sealed == "sealed-1"  # still asked for
    assert await apply(store, UNDELIVERED, code="UNDELIV") is ReportOutcome.APPLIED
    assert (await row(store, 1)).recipient_sealed is None


async def test_sealed_recipients_past_the_window_are_forgotten(store: SqlMessageLogStore) -> None:
    for n in (1, 2, 3):
        await store.add(entry(n, delivery_status=SENT, recipient_sealed=f"sealed-{n}"))
    # Rows created before minute 3 have left the window: their numbers go, the row stays.
    assert await store.forget_recipients(START + timedelta(minutes=3)) == 2
    assert [(await row(store, n)).recipient_sealed for n in (1, 2, 3)] == [
        None,
        None,
        "sealed-3",
    ]
    assert (await row(store, 1)).delivery_status is SENT
    assert await store.forget_recipients(START + timedelta(minutes=3)) == 0
    # Retention takes the number with the row.
    assert await store.delete_before("default", START + timedelta(minutes=4)) == 3
