"""Standby connectors and routing rules in SQL, on SQLite and PostgreSQL; the cache of a send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from phoneauth.domain.sms_router import NO_ROUTING, StoredStandby
from phoneauth.domain.sms_routing import ACTIVE
from phoneauth.domain.tenants import TenantKind
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.models import SmsRoutingRow
from phoneauth.storage.repositories.sms_routing import SqlSmsRoutingStore
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.versioned_cache import cache_for

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(migrated_database: Any) -> AsyncIterator[Database]:
    db = open_database(migrated_database.url, schema=migrated_database.schema)
    tenants = SqlTenantStore(db)
    await tenants.create("alpha", "Alpha", TenantKind.DEVELOPMENT)
    await tenants.create("beta", "Beta", TenantKind.DEVELOPMENT)
    yield db
    await db.dispose()


def standby(connector_id: str, tenant_id: str = "alpha", sealed: str = "c1") -> StoredStandby:
    return StoredStandby(connector_id, tenant_id, "http-sms", sealed, NOW, NOW)


async def test_standby_connectors_are_kept_per_tenant(database: Database) -> None:
    store = SqlSmsRoutingStore(database)
    await store.add_standby(standby("sb-1"))
    await store.add_standby(standby("sb-2", "beta"))
    assert await store.list_standby("alpha") == [standby("sb-1")]
    later = NOW + timedelta(minutes=1)
    updated = await store.update_standby("alpha", "sb-1", "c2", later)
    assert updated is not None
    assert (updated.config_encrypted, updated.updated_at, updated.created_at) == ("c2", later, NOW)
    assert await store.update_standby("beta", "sb-1", "stolen", later) is None  # other tenant
    assert not await store.delete_standby("beta", "sb-1")
    assert await store.delete_standby("alpha", "sb-1")
    assert await store.list_standby("alpha") == []
    assert [row.id for row in await store.list_standby("beta")] == ["sb-2"]


async def test_rules_are_replaced_whole_and_read_as_parsed_routing(database: Database) -> None:
    store = SqlSmsRoutingStore(database)
    assert await store.routing("alpha") is NO_ROUTING
    await store.add_standby(standby("sb-1"))
    await store.put_rules("alpha", {"fallback": ["sb-1"]}, NOW)
    await store.put_rules("alpha", {"fallback": ["sb-1"], "deadlineSeconds": 4}, NOW)
    assert await store.rules_document("alpha") == {"fallback": ["sb-1"], "deadlineSeconds": 4}
    routing = await store.routing("alpha")
    assert routing.rules is not None
    assert routing.rules.connectors_for("DE") == (ACTIVE, "sb-1")
    assert routing.rules.deadline_seconds == 4
    assert [row.id for row in routing.standby] == ["sb-1"]
    assert await store.routing("beta") is NO_ROUTING


async def test_the_send_path_cache_sees_every_change_and_caches_no_rules_too(
    database: Database, migrated_database: Any
) -> None:
    store = SqlSmsRoutingStore(database, cache=cache_for(database))
    loads = 0
    original = store._routing  # counting the loads behind the cache

    async def counted(tenant_id: str) -> Any:
        nonlocal loads
        loads += 1
        return await original(tenant_id)

    store._routing = counted  # type: ignore[method-assign]
    assert await store.routing("alpha") is NO_ROUTING
    assert await store.routing("alpha") is NO_ROUTING
    assert loads == 1  # a tenant without rules is no database read per send
    # A change by anyone (here a hand-written UPDATE after a write) empties the cache.
    await store.put_rules("alpha", {"deadlineSeconds": 3}, NOW)
    first = await store.routing("alpha")
    assert first.rules is not None
    assert first.rules.deadline_seconds == 3

    def by_hand(session: Any) -> None:
        session.execute(
            update(SmsRoutingRow)
            .where(SmsRoutingRow.tenant_id == "alpha")
            .values(document='{"deadlineSeconds": 7}')
        )

    other = open_database(migrated_database.url, schema=migrated_database.schema)
    try:
        await other.write(by_hand)
    finally:
        await other.dispose()
    await asyncio.sleep(0)  # a new turn of the loop: the change counter is read again
    changed = await store.routing("alpha")
    assert changed.rules is not None
    assert changed.rules.deadline_seconds == 7


async def test_a_document_that_no_longer_parses_leaves_sends_unrouted(database: Database) -> None:
    store = SqlSmsRoutingStore(database)
    await store.put_rules("alpha", {"fallback": ["gone"]}, NOW)  # the store does not judge
    routing = await store.routing("alpha")
    assert routing.rules is None
