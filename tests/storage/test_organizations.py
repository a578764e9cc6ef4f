"""The organization store: tenant scoping and the one-winner acceptance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest

from phoneauth.domain.organizations import Invitation, InvitationStatus, Organization
from phoneauth.domain.tenants import TenantKind, Tenants
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.repositories.organizations import SqlOrganizationStore
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.users import SqlUserStore

PHONE = "+4915112345678"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(migrated_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    database = open_database(migrated_database.url, schema=migrated_database.schema)
    tenants = Tenants(SqlTenantStore(database))
    await tenants.ensure_default()
    await tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    try:
        yield database
    finally:
        await database.dispose()


def invitation(invitation_id: str, organization_id: str, tenant_id: str = "default") -> Invitation:
    return Invitation(
        id=invitation_id,
        tenant_id=tenant_id,
        organization_id=organization_id,
        phone=PHONE,
        status=InvitationStatus.PENDING,
        accepted_user_id=None,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )


async def test_organizations_and_invitations_never_cross_tenants(database: Database) -> None:
    store = SqlOrganizationStore(database)
    users = SqlUserStore(database)
    await store.create(Organization("org1", "default", "Acme", None, NOW))
    await store.create(Organization("org2", "other", "Beta", "b", NOW))
    assert (await store.get("default", "org1")) == Organization(
        "org1", "default", "Acme", None, NOW
    )
    assert await store.get("other", "org1") is None
    assert [o.id for o in (await store.list_organizations("other", offset=0, limit=10)).items] == [
        "org2"
    ]
    await store.add_invitation(invitation("inv1", "org1"))
    assert await store.get_invitation("other", "inv1") is None
    assert await store.list_invitations("other", organization_id=None, phone=None) == []
    assert not await store.revoke_invitation("other", "inv1", NOW)
    user = await users.create("other", phone=PHONE)
    assert not await store.accept_invitation("other", "inv1", user.id, NOW)
    await store.delete_invitation("other", "inv1")
    found = await store.get_invitation("default", "inv1")
    assert found is not None
    assert found.status is InvitationStatus.PENDING
    assert (await store.members("other", "org1", offset=0, limit=10)).total == 0


async def test_acceptance_has_one_winner_and_keeps_an_existing_membership(
    database: Database,
) -> None:
    store = SqlOrganizationStore(database)
    user = await SqlUserStore(database).create("default", phone=PHONE)
    await store.create(Organization("org1", "default", "Acme", None, NOW))
    await store.add_invitation(invitation("inv1", "org1"))
    results = await asyncio.gather(
        *(store.accept_invitation("default", "inv1", user.id, NOW) for _ in range(10))
    )
    assert results.count(True) == 1
    assert await store.is_member("default", "org1", user.id)
    # A second invitation for a member is accepted without a duplicate membership.
    await store.add_invitation(invitation("inv2", "org1"))
    assert await store.accept_invitation("default", "inv2", user.id, NOW)
    members = await store.members("default", "org1", offset=0, limit=10)
    assert (members.total, [m.id for m in members.items]) == (1, [user.id])
    # Expired or revoked: no acceptance.
    await store.add_invitation(invitation("inv3", "org1"))
    assert not await store.accept_invitation("default", "inv3", user.id, NOW + timedelta(days=2))
    assert await store.revoke_invitation("default", "inv3", NOW)
    assert not await store.revoke_invitation("default", "inv3", NOW)
    assert not await store.accept_invitation("default", "inv3", user.id, NOW)
