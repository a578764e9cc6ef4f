"""Switching a tenant's kind against the real stores, on SQLite and PostgreSQL: the checks the
HTTP tests cannot time (an outbox saved while the kind is written)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from tests import local_http

from phoneauth.connectors import load_registry
from phoneauth.crypto import ConfigCipher
from phoneauth.domain.connector_management import SMS, ConnectorManagement, StoredConnector
from phoneauth.domain.tenant_kinds import DevelopmentConnectorInUseError, TenantKinds
from phoneauth.domain.tenants import TenantKind, Tenants
from phoneauth.storage.database import Database
from phoneauth.storage.repositories.connectors import SqlConnectorStore
from phoneauth.storage.repositories.tenants import SqlTenantStore

NOW = datetime(2026, 12, 4, 22, tzinfo=UTC)


class OutboxSavedMeanwhile(SqlConnectorStore):
    """Answers the first look as it was, then saves the outbox: a "change connector" that
    checked the kind just before the switch wrote it."""

    looks = 0

    async def get_by_type(self, tenant_id: str, connector_type: str) -> StoredConnector | None:
        found = await super().get_by_type(tenant_id, connector_type)
        self.looks += 1
        if self.looks == 1:
            await self.replace(tenant_id, SMS, "outbox-sms", "ciphertext", now=NOW)
        return found


@pytest.fixture
async def tenants(database: Database) -> Tenants:
    tenants = Tenants(SqlTenantStore(database))
    await tenants.create("shop", "Shop", TenantKind.DEVELOPMENT)
    return tenants


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client() as http:  # never used: nothing is sent
        yield http


def _connectors(store: SqlConnectorStore, client: httpx.AsyncClient) -> ConnectorManagement:
    return ConnectorManagement(store, load_registry(), client, ConfigCipher(b"k" * 32))


async def test_an_outbox_saved_while_the_kind_is_written_undoes_the_switch(
    database: Database, tenants: Tenants, client: httpx.AsyncClient
) -> None:
    kinds = TenantKinds(tenants, _connectors(OutboxSavedMeanwhile(database), client))
    with pytest.raises(DevelopmentConnectorInUseError) as refused:
        await kinds.change("shop", TenantKind.PRODUCTION)
    assert refused.value.details == {"tenant_id": "shop", "connector_id": "outbox-sms"}
    assert (await tenants.get("shop")).kind is TenantKind.DEVELOPMENT


async def test_a_connector_of_an_uninstalled_plugin_does_not_block_production(
    database: Database, tenants: Tenants, client: httpx.AsyncClient
) -> None:
    store = SqlConnectorStore(database)
    await store.replace("shop", SMS, "gone-plugin-sms", "ciphertext", now=NOW)
    kinds = TenantKinds(tenants, _connectors(store, client))
    changed = await kinds.change("shop", TenantKind.PRODUCTION)
    assert changed.kind is TenantKind.PRODUCTION
    assert (await tenants.get("shop")).kind is TenantKind.PRODUCTION
