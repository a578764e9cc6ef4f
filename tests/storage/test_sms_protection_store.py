"""Countries' SMS suspensions in SQL, on SQLite and PostgreSQL; the cache every send reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from phoneauth.domain.sms_protection import CountrySuspension
from phoneauth.domain.tenants import TenantKind
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.models import SmsCountrySuspensionRow
from phoneauth.storage.repositories.sms_protection import SqlSuspensionStore
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


def paused(country: str, until: datetime | None, tenant_id: str = "alpha") -> CountrySuspension:
    return CountrySuspension(tenant_id, country, "low_conversion", "2 of 40 verified", NOW, until)


async def test_suspensions_are_kept_per_tenant_replaced_and_ended(database: Database) -> None:
    store = SqlSuspensionStore(database)
    assert await store.suspensions("alpha") == {}
    hour = NOW + timedelta(hours=1)
    await store.put(paused("LV", hour))
    await store.put(paused("LV", None, "beta"))
    assert await store.suspensions("alpha") == {"LV": paused("LV", hour)}
    await store.put(paused("LV", None))  # a new suspension replaces the country's last
    assert (await store.suspensions("alpha"))["LV"].until is None
    later = NOW + timedelta(minutes=5)
    assert await store.end("alpha", "LV", later)
    assert (await store.suspensions("alpha"))["LV"].until == later  # kept: counting restarts
    assert not await store.end("alpha", "LV", later + timedelta(minutes=1))  # not active now
    assert not await store.end("alpha", "GB", later)
    assert (await store.suspensions("beta"))["LV"].until is None  # the other tenant's stays


async def test_the_send_path_cache_sees_every_change(database: Database) -> None:
    store = SqlSuspensionStore(database, cache=cache_for(database))
    other = SqlSuspensionStore(database)  # another worker, writing
    assert await store.suspensions("alpha") == {}
    await other.put(paused("LV", None))
    assert set(await store.suspensions("alpha")) == {"LV"}
    # A hand-written change moves the counter too (the table's triggers, migration 0012).
    await database.write(lambda session: session.execute(delete(SmsCountrySuspensionRow.__table__)))
    assert await store.suspensions("alpha") == {}
