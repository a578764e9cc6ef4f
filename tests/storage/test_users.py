from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest

from phoneauth.domain.passwords import PasswordRejectedError, hash_password, verify_password
from phoneauth.domain.tenants import TenantKind, Tenants
from phoneauth.domain.users import PhoneInUseError, UserNotFoundError
from phoneauth.storage.database import open_database
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.users import SqlUserStore

PHONE = "+4915112345678"


@pytest.fixture
async def users(migrated_database: DatabaseUnderTest) -> AsyncIterator[SqlUserStore]:
    """The user store over two tenants, `default` and `other`."""
    database = open_database(migrated_database.url, schema=migrated_database.schema)
    tenants = Tenants(SqlTenantStore(database))
    await tenants.ensure_default()
    await tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    try:
        yield SqlUserStore(database)
    finally:
        await database.dispose()


async def test_phone_is_unique_per_tenant_and_rows_never_cross_tenants(
    users: SqlUserStore,
) -> None:
    mine = await users.create("default", phone=PHONE)
    theirs = await users.create("other", phone=PHONE)
    assert mine.id != theirs.id
    with pytest.raises(PhoneInUseError):
        await users.create("default", phone=PHONE)
    assert (await users.find_by_phone("default", PHONE)) == mine
    assert await users.get("other", mine.id) is None
    with pytest.raises(UserNotFoundError):
        await users.set_phone("other", mine.id, "+4915100000000")
    assert [u.id for u in await users.list("other")] == [theirs.id]
    second = await users.create("default", phone="+4915199999999")
    with pytest.raises(PhoneInUseError):
        await users.set_phone("default", second.id, PHONE)
    results = await asyncio.gather(
        *(users.create("default", phone="+4915177777777") for _ in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, PhoneInUseError) for r in results if isinstance(r, Exception))


async def test_passwords_are_argon2id_and_checked() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong horse battery")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")
    for weak in ("short", "12345678901"):
        with pytest.raises(PasswordRejectedError):
            hash_password(weak)


async def test_a_sign_in_stamps_only_its_own_user_to_the_microsecond(
    users: SqlUserStore,
) -> None:
    mine = await users.create("default", phone=PHONE)
    neighbour = await users.create("default", phone="+4915199999999")
    at = datetime(2026, 12, 7, 14, 5, 6, 789012, tzinfo=UTC)
    await users.record_sign_in("other", mine.id, at)  # another tenant's: changes nothing
    assert (await users.get("default", mine.id)).last_sign_in_at is None  # type: ignore[union-attr]
    await users.record_sign_in("default", mine.id, at)
    stamped = await users.get("default", mine.id)
    assert stamped is not None
    assert stamped.last_sign_in_at == at
    assert stamped.last_sign_in_at.utcoffset() == timedelta(0)  # type: ignore[union-attr]
    untouched = await users.get("default", neighbour.id)
    assert untouched is not None
    assert untouched.last_sign_in_at is None
    later = at + timedelta(hours=1)
    await users.record_sign_in("default", mine.id, later)
    assert (await users.get("default", mine.id)).last_sign_in_at == later  # type: ignore[union-attr]
