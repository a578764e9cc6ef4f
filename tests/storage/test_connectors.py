from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from phoneauth.domain.connector_management import ConnectorConflictError
from phoneauth.domain.tenants import TenantKind, TenantNotFoundError
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.models import ConnectorRow
from phoneauth.storage.repositories.connectors import SqlConnectorStore
from phoneauth.storage.repositories.tenants import SqlTenantStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(migrated_database: Any) -> AsyncIterator[Database]:
    db = open_database(migrated_database.url, schema=migrated_database.schema)
    tenants = SqlTenantStore(db)
    await tenants.create("alpha", "Alpha", TenantKind.DEVELOPMENT)
    await tenants.create("beta", "Beta", TenantKind.DEVELOPMENT)
    yield db
    await db.dispose()


@pytest.fixture
def store(database: Database) -> SqlConnectorStore:
    return SqlConnectorStore(database)


async def _rows(database: Database) -> list[tuple[str, str, str]]:
    async with AsyncSession(database.engine) as session:
        rows = await session.execute(
            select(ConnectorRow.tenant_id, ConnectorRow.id, ConnectorRow.connector_id).order_by(
                ConnectorRow.tenant_id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_replace_keeps_exactly_one_connector_per_tenant_and_type(
    store: SqlConnectorStore, database: Database
) -> None:
    first = await store.replace("alpha", "Sms", "twilio-short-message-service", "c1", now=NOW)
    later = NOW + timedelta(minutes=1)
    second = await store.replace("alpha", "Sms", "outbox-sms", "c2", now=later)
    assert await _rows(database) == [("alpha", second.id, "outbox-sms")]
    active = await store.get_by_type("alpha", "Sms")
    assert active == second
    assert active is not None
    assert (active.factory_id, active.config_encrypted, active.created_at) == (
        "outbox-sms",
        "c2",
        later,
    )
    assert await store.get("alpha", first.id) is None
    assert await store.list("alpha") == [second]


async def test_a_proposed_id_may_replace_the_connector_that_has_it(
    store: SqlConnectorStore,
) -> None:
    await store.replace("alpha", "Sms", "outbox-sms", "c1", now=NOW, connector_id="mine")
    again = await store.replace("alpha", "Sms", "http-sms", "c2", now=NOW, connector_id="mine")
    assert again.id == "mine"
    assert [row.factory_id for row in await store.list("alpha")] == ["http-sms"]


async def test_an_id_taken_in_another_tenant_is_a_conflict_not_a_crash(
    store: SqlConnectorStore, database: Database
) -> None:
    await store.replace("alpha", "Sms", "outbox-sms", "secret-a", now=NOW, connector_id="shared")
    with pytest.raises(ConnectorConflictError) as info:
        await store.replace("beta", "Sms", "outbox-sms", "c", now=NOW, connector_id="shared")
    assert info.value.status == 409
    assert await _rows(database) == [("alpha", "shared", "outbox-sms")]


async def test_an_unknown_tenant_is_refused(store: SqlConnectorStore) -> None:
    with pytest.raises(TenantNotFoundError):
        await store.replace("nobody", "Sms", "outbox-sms", "c", now=NOW)


async def test_every_method_sees_only_its_own_tenant(store: SqlConnectorStore) -> None:
    alpha = await store.replace("alpha", "Sms", "outbox-sms", "alpha-config", now=NOW)
    assert await store.list("beta") == []
    assert await store.get("beta", alpha.id) is None
    assert await store.get_by_type("beta", "Sms") is None
    assert await store.update_config("beta", alpha.id, "outbox-sms", "x", now=NOW) is None
    assert await store.delete("beta", alpha.id) is False
    beta = await store.replace("beta", "Sms", "outbox-sms", "beta-config", now=NOW)
    assert await store.list("alpha") == [alpha]
    assert await store.list("beta") == [beta]
    assert await store.get("alpha", alpha.id) == alpha


async def test_update_changes_only_the_matching_factorys_row(store: SqlConnectorStore) -> None:
    saved = await store.replace("alpha", "Sms", "outbox-sms", "old", now=NOW)
    later = NOW + timedelta(hours=1)
    # A replace that reused the id with another factory must not receive the old factory's config.
    assert await store.update_config("alpha", saved.id, "http-sms", "x", now=later) is None
    updated = await store.update_config("alpha", saved.id, "outbox-sms", "new", now=later)
    assert updated is not None
    assert (updated.config_encrypted, updated.created_at, updated.updated_at) == (
        "new",
        NOW,
        later,
    )
    assert await store.update_config("alpha", "missing", "outbox-sms", "x", now=later) is None


async def test_delete_reports_whether_a_row_went(store: SqlConnectorStore) -> None:
    saved = await store.replace("alpha", "Sms", "outbox-sms", "c", now=NOW)
    assert await store.delete("alpha", saved.id) is True
    assert await store.delete("alpha", saved.id) is False
    assert await store.get_by_type("alpha", "Sms") is None


async def test_twenty_concurrent_replaces_leave_exactly_one_row(
    store: SqlConnectorStore, database: Database
) -> None:
    results = await asyncio.gather(
        *(store.replace("alpha", "Sms", "outbox-sms", f"c{i}", now=NOW) for i in range(20)),
        return_exceptions=True,
    )
    saved = [result for result in results if not isinstance(result, BaseException)]
    failures = [result for result in results if isinstance(result, BaseException)]
    assert all(isinstance(failure, ConnectorConflictError) for failure in failures), failures
    assert saved
    rows = await _rows(database)
    assert len(rows) == 1
    assert rows[0][1] in {row.id for row in saved}
    async with AsyncSession(database.engine) as session:
        count = await session.scalar(select(func.count()).select_from(ConnectorRow))
    assert count == 1


class CollidingStore(SqlConnectorStore):
    """Makes the first `collisions` attempts hit the unique (tenant, type) constraint for real."""

    def __init__(self, database: Database, collisions: int, attempts: int = 8) -> None:
        super().__init__(database, attempts=attempts)
        self.collisions = collisions

    def _replace_in(self, session: Session, row: ConnectorRow) -> None:
        if self.collisions > 0:
            self.collisions -= 1
            intruder = ConnectorRow(
                id=f"intruder-{self.collisions}",
                tenant_id=row.tenant_id,
                type=row.type,
                connector_id="http-sms",
                config_encrypted="x",
                created_at=NOW,
                updated_at=NOW,
            )
            session.add_all([intruder, row])
            session.flush()
        super()._replace_in(session, row)


async def test_a_collision_is_retried_in_a_fresh_transaction(database: Database) -> None:
    store = CollidingStore(database, collisions=2)
    saved = await store.replace("alpha", "Sms", "outbox-sms", "c", now=NOW)
    assert await _rows(database) == [("alpha", saved.id, "outbox-sms")]


async def test_endless_collisions_end_in_a_409_not_a_500(database: Database) -> None:
    store = CollidingStore(database, collisions=99, attempts=3)
    with pytest.raises(ConnectorConflictError) as info:
        await store.replace("alpha", "Sms", "outbox-sms", "c", now=NOW)
    assert (info.value.code, info.value.status) == ("connector.conflict", 409)
    assert await _rows(database) == []


async def test_concurrent_replaces_from_two_instances_leave_exactly_one_row(
    migrated_database: Any, database: Database
) -> None:
    second = open_database(migrated_database.url, schema=migrated_database.schema)
    try:
        stores = [SqlConnectorStore(database), SqlConnectorStore(second)]
        results = await asyncio.gather(
            *(
                stores[i % 2].replace("alpha", "Sms", "outbox-sms", f"c{i}", now=NOW)
                for i in range(20)
            ),
            return_exceptions=True,
        )
    finally:
        await second.dispose()
    failures = [result for result in results if isinstance(result, BaseException)]
    assert all(isinstance(failure, ConnectorConflictError) for failure in failures), failures
    assert len(await _rows(database)) == 1
