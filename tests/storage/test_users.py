from __future__ import annotations

import asyncio

import pytest
from tests.conftest import DatabaseUnderTest

from phoneauth.domain.passwords import PasswordRejectedError, hash_password, verify_password
from phoneauth.domain.tenants import TenantKind, Tenants
from phoneauth.domain.users import PhoneInUseError, UserNotFoundError
from phoneauth.storage.database import open_database
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.users import SqlUserStore

PHONE = "+4915112345678"


async def test_phone_is_unique_per_tenant_and_rows_never_cross_tenants(
    migrated_database: DatabaseUnderTest,
) -> None:
    database = open_database(migrated_database.url, schema=migrated_database.schema)
    tenants = Tenants(SqlTenantStore(database))
    await tenants.ensure_default()
    await tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    users = SqlUserStore(database)
    try:
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
    finally:
        await database.dispose()


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
