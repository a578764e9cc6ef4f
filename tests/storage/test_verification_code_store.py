"""The code store (plain SQL with group commit on SQLite, SQLAlchemy on PostgreSQL): conditional
writes, and no call reaches another tenant's rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import PHONE, make_tenant, migrated

from phoneauth.domain.verification_codes import StoredCode, VerificationCodeStore
from phoneauth.storage.database import Database
from phoneauth.storage.repositories.sqlite_hot_path import (
    SqliteVerificationCodeStore,
    code_and_log_stores,
)
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(test_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    database: Database = await migrated(test_database)
    await make_tenant(database, "default")
    await make_tenant(database, "other")
    yield database
    await database.dispose()


@pytest.fixture
def store(database: Database, test_database: DatabaseUnderTest) -> VerificationCodeStore:
    chosen, _log = code_and_log_stores(database)
    expected = (
        SqliteVerificationCodeStore if test_database.name == "sqlite" else SqlVerificationCodeStore
    )
    assert type(chosen) is expected
    return chosen


def code(code_id: str, tenant_id: str = "default", **changes: object) -> StoredCode:
    fields: dict[str, object] = {
        "id": code_id,
        "tenant_id": tenant_id,
        "phone": PHONE,
        "usage_type": "SignIn",
        "scope": "",
        "code_hash": "h" * 64,
        "try_count": 0,
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
    }
    return StoredCode(**{**fields, **changes})  # type: ignore[arg-type]


async def test_round_trip_keeps_every_field_utc_aware(store: VerificationCodeStore) -> None:
    await store.replace(code("c1", scope="flow"))
    found = await store.find_live("default", PHONE, "SignIn", "flow")
    assert found == code("c1", scope="flow")
    assert found is not None
    assert found.expires_at.tzinfo is not None


async def test_claims_stop_at_the_limit_and_after_consumption(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("c1"))
    assert [await store.claim_attempt("default", "c1", 2) for _ in range(3)] == [True, True, False]
    assert not await store.consume("default", "c1", NOW, 2)  # no attempt left for a right code
    assert await store.consume("default", "c1", NOW, 3)
    found = await store.get("default", "c1")
    assert found is not None
    assert (found.try_count, found.consumed_at) == (2, NOW)  # the right code used none
    assert not await store.consume("default", "c1", NOW, 10)
    assert not await store.claim_attempt("default", "c1", 10)
    assert await store.find_live("default", PHONE, "SignIn", "") is None


async def test_an_expired_code_cannot_be_consumed(store: VerificationCodeStore) -> None:
    await store.replace(code("c1"))
    assert not await store.consume("default", "c1", NOW + timedelta(minutes=10, seconds=1), 10)
    assert await store.consume("default", "c1", NOW + timedelta(minutes=10), 10)


async def test_no_call_touches_another_tenants_code(store: VerificationCodeStore) -> None:
    await store.replace(code("c1"))
    assert await store.find_live("other", PHONE, "SignIn", "") is None
    assert await store.get("other", "c1") is None
    assert not await store.claim_attempt("other", "c1", 10)
    assert not await store.consume("other", "c1", NOW, 10)
    assert await store.delete_finished("other", NOW + timedelta(days=1)) == 0
    await store.replace(code("c2", tenant_id="other"))  # replaces only the other tenant's codes
    assert await store.get("default", "c1") == code("c1")


async def test_delete_finished_keeps_live_codes(store: VerificationCodeStore) -> None:
    await store.replace(code("live", phone="+4915100000001"))
    await store.replace(code("expired", phone="+4915100000002", expires_at=NOW - timedelta(1)))
    await store.replace(code("used", phone="+4915100000003"))
    assert await store.consume("default", "used", NOW, 10)
    assert await store.delete_finished("default", NOW) == 2
    assert await store.get("default", "live") is not None


async def test_rows_written_in_plain_sql_and_through_the_orm_read_alike(tmp_path: Path) -> None:
    """SQLite only (PostgreSQL has one store): each store reads what the other wrote."""
    database = await migrated(DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{tmp_path}/p.db"))
    await make_tenant(database, "default")
    assert database.writer is not None
    fast = SqliteVerificationCodeStore(database, database.writer)
    orm = SqlVerificationCodeStore(database)
    consumed = code("c2", phone="+4915100000002", consumed_at=NOW + timedelta(seconds=1))
    await fast.replace(code("c1", scope="s", created_at=NOW.replace(microsecond=0)))
    await fast.replace(consumed)
    await orm.replace(code("c3", phone="+4915100000003", try_count=4))
    assert await orm.get("default", "c1") == code(
        "c1", scope="s", created_at=NOW.replace(microsecond=0)
    )
    assert await orm.get("default", "c2") == consumed
    assert await fast.get("default", "c3") == code("c3", phone="+4915100000003", try_count=4)
    # And the ORM's time comparisons work on the plain-SQL text.
    assert await orm.delete_finished("default", NOW + timedelta(minutes=5)) == 1  # c2, consumed
    await database.dispose()
