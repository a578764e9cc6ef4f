"""Account API verification records in SQL: tenant scoping, verification, the expiry sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest

from phoneauth.connectors import UsageType
from phoneauth.domain.account_verifications import VerificationRecord
from phoneauth.domain.tenants import TenantKind, Tenants
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.users import SqlUserStore
from phoneauth.storage.repositories.verification_records import SqlVerificationRecordStore

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


async def test_verification_records_are_tenant_scoped_and_expired_ones_are_swept(
    database: Database,
) -> None:
    records = SqlVerificationRecordStore(database)
    user = await SqlUserStore(database).create("default", phone=PHONE)
    old = VerificationRecord(
        "old",
        "default",
        user.id,
        PHONE,
        UsageType.BIND_MFA,
        False,
        NOW,
        NOW + timedelta(minutes=10),
    )
    await records.insert(old)
    assert await records.get("default", "old") == old
    assert await records.get("other", "old") is None
    await records.mark_verified("other", "old")
    assert not (await records.get("default", "old") or old).verified
    await records.mark_verified("default", "old")
    verified = await records.get("default", "old")
    assert verified is not None
    assert verified.verified
    later = NOW + timedelta(minutes=11)
    new = VerificationRecord(
        "new",
        "default",
        user.id,
        PHONE,
        UsageType.USER_PERMISSION_VALIDATION,
        False,
        later,
        later + timedelta(minutes=10),
    )
    await records.insert(new)
    assert await records.get("default", "old") is None
    await records.delete("other", "new")
    assert await records.get("default", "new") == new
    await records.delete("default", "new")
    assert await records.get("default", "new") is None
