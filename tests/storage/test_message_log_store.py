"""The message log: newest first, filters, paging, retention, tenant isolation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import make_tenant, migrated
from tests.loop_turns_support import turns_during
from tests.storage.unit_counting import count_units

from phoneauth.connectors import UsageType
from phoneauth.domain.message_log import (
    DeliveryStatus,
    MessageLog,
    MessageLogEntry,
    MessageLogQuery,
    MessageStatus,
)
from phoneauth.storage.database import Database
from phoneauth.storage.repositories import message_log as message_log_store
from phoneauth.storage.repositories.message_log import SqlMessageLogStore

START = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
async def log(migrated_database: DatabaseUnderTest) -> AsyncIterator[MessageLog]:
    database: Database = await migrated(migrated_database)
    await make_tenant(database, "default")
    await make_tenant(database, "other")
    yield MessageLog(SqlMessageLogStore(database))
    await database.dispose()


def entry(n: int, tenant_id: str = "default", **changes: object) -> MessageLogEntry:
    fields: dict[str, object] = {
        "id": f"m{n:03d}",
        "tenant_id": tenant_id,
        "created_at": START + timedelta(minutes=n),
        "connector_id": "row-1",
        "factory_id": "outbox-sms",
        "usage_type": "SignIn",
        "phone_masked": "+4915*****5678",
        "status": MessageStatus.SENT,
        "provider_message_id": f"p{n}",
        "latency_ms": n,
    }
    return MessageLogEntry(**{**fields, **changes})  # type: ignore[arg-type]


async def test_entries_round_trip_newest_first_with_a_total(log: MessageLog) -> None:
    for n in range(5):
        await log.record(entry(n))
    page = await log.query("default")
    assert page.total == 5
    assert page.entries == [entry(n) for n in (4, 3, 2, 1, 0)]


async def test_entries_recorded_at_once_keep_every_field(
    migrated_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of one loop turn go in together (on PostgreSQL one INSERT over one array per
    column): every field of every row comes back as it went in, empty ones included."""
    database: Database = await migrated(migrated_database)
    await make_tenant(database, "default")
    log = MessageLog(SqlMessageLogStore(database))
    full = {
        "error_code": "sms.send_failed",
        "error_message": "Provider said no ('quoted')",
        "test_send": True,
        "send_id": "s1",
        "attempt": 2,
        "code_id": "c1",
        "country": "DE",
        "delivery_status": DeliveryStatus.DELIVERED,
        "delivery_code": "DELIVRD",
        "delivery_updated_at": START + timedelta(hours=1, microseconds=7),
        "delivery_latency_ms": 1234,
        "recipient_sealed": "v2.sealed",
        "encoding": "UCS-2",
        "segments": 3,
        "characters": 140,
    }
    entries = [
        entry(n, **(full if n % 2 else {"connector_id": None, "provider_message_id": None}))
        for n in range(12)
    ]
    units = count_units(monkeypatch, database, "write")
    try:
        await asyncio.gather(*(log.record(one) for one in entries))
        page = await log.query("default", page_size=20)
    finally:
        await database.dispose()
    assert page.entries == entries[::-1]
    assert len(units) == 1, "the rows went in more than one unit"


async def test_paging(log: MessageLog) -> None:
    for n in range(5):
        await log.record(entry(n))
    page = await log.query("default", page=2, page_size=2)
    assert ([e.id for e in page.entries], page.total) == (["m002", "m001"], 5)
    assert (await log.query("default", page=4, page_size=2)).entries == []
    with pytest.raises(ValueError, match="page_size"):
        MessageLogQuery(page_size=101)


async def test_filters_combine(log: MessageLog) -> None:
    await log.record(entry(1))
    await log.record(entry(2, status=MessageStatus.FAILED, error_code="connector.timeout"))
    await log.record(entry(3, usage_type="Register"))
    await log.record(entry(4, phone_masked="+4915*****4321"))
    failed = await log.query("default", status=MessageStatus.FAILED)
    assert [e.id for e in failed.entries] == ["m002"]
    assert failed.entries[0].error_code == "connector.timeout"
    register = await log.query("default", usage_type=UsageType.REGISTER)
    assert [e.id for e in register.entries] == ["m003"]
    by_phone = await log.query("default", phone="+4915187654321")
    assert [e.id for e in by_phone.entries] == ["m004"]
    both = await log.query("default", phone="+4915112345678", status=MessageStatus.SENT)
    assert ([e.id for e in both.entries], both.total) == (["m003", "m001"], 2)


async def test_tenants_see_and_delete_only_their_own_entries(log: MessageLog) -> None:
    await log.record(entry(1))
    await log.record(entry(2, tenant_id="other"))
    assert [e.id for e in (await log.query("other")).entries] == ["m002"]
    assert await log.store.delete_before("other", START + timedelta(days=1)) == 1
    assert [e.id for e in (await log.query("default")).entries] == ["m001"]


async def test_delete_before_keeps_newer_entries(log: MessageLog) -> None:
    for n in range(4):
        await log.record(entry(n))
    assert await log.store.delete_before("default", START + timedelta(minutes=2)) == 2
    assert [e.id for e in (await log.query("default")).entries] == ["m003", "m002"]


async def test_a_prune_deletes_in_batches_until_none_is_left(
    log: MessageLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2 over 7 old entries (another tenant's between): all 7 go, oldest first,
    the newer ones and the other tenant's stay."""
    monkeypatch.setattr(message_log_store, "PRUNE_BATCH", 2)
    for n in range(9):
        await log.record(entry(n))
    await log.record(entry(20, tenant_id="other"))
    deleted, turns = await turns_during(
        log.store.delete_before("default", START + timedelta(minutes=7))
    )
    assert deleted == 7
    assert turns >= 3  # requests are served between the 4 batches, not after all of them
    assert [e.id for e in (await log.query("default")).entries] == ["m008", "m007"]
    assert [e.id for e in (await log.query("other")).entries] == ["m020"]


def test_long_provider_messages_are_cut_to_the_column_size() -> None:
    long = entry(1, status=MessageStatus.FAILED, error_message="x" * 5000)
    assert long.error_message == "x" * 1024
