"""Read caches on both databases: a change committed by another instance (another worker, another
machine, a hand-written UPDATE) is seen by the next lookup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text, update
from tests.closed_loops import run_one_turn_then_close
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import make_tenant, migrated

from phoneauth.domain.admin_keys import AdminKeys, hash_key
from phoneauth.domain.sign_in_experience import default_sign_in_experience
from phoneauth.domain.tenants import TenantKind, Tenants, TenantSettings
from phoneauth.domain.verification_codes import StoredCode
from phoneauth.storage.database import (
    WATCHED_TABLES,
    Database,
    changed_rows,
    moves_no_version,
    open_database,
    request_scope,
)
from phoneauth.storage.models import MessageLogRow, TenantRow
from phoneauth.storage.prepared import Prepared
from phoneauth.storage.repositories.admin_keys import SqlAdminKeyStore
from phoneauth.storage.repositories.connectors import SqlConnectorStore
from phoneauth.storage.repositories.sign_in_experiences import SqlSignInExperienceStore
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore
from phoneauth.storage.versioned_cache import VersionedCache, cache_for

NOW = datetime(2030, 1, 1, tzinfo=UTC)
_MESSAGE_LOG_INSERT = Prepared(insert(MessageLogRow.__table__))


@pytest.fixture
async def two_instances(
    migrated_database: DatabaseUnderTest,
) -> AsyncIterator[tuple[Database, Database]]:
    """Two processes' worth of storage on one database (SQLite file or PostgreSQL schema)."""
    one = await migrated(migrated_database)
    await make_tenant(one, "default")
    two = open_database(migrated_database.url, schema=migrated_database.schema)
    yield one, two
    await two.dispose()
    await one.dispose()


class CountingLoads:
    def __init__(self) -> None:
        self.loads = 0

    async def __call__(self) -> str:
        self.loads += 1
        return "value"


async def test_a_hit_does_not_load_again_until_someone_else_commits(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    cache: VersionedCache[str, str] = VersionedCache(one)
    load = CountingLoads()
    for _ in range(3):
        assert await cache.get("k", load) == "value"
    assert load.loads == 1
    await Tenants(SqlTenantStore(two)).create("other", "Other", TenantKind.DEVELOPMENT)
    assert await cache.get("k", load) == "value"
    assert load.loads == 2


async def test_a_hand_written_update_elsewhere_empties_the_caches(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    cache: VersionedCache[str, str] = VersionedCache(one)
    load = CountingLoads()
    await cache.get("k", load)
    await two.write(lambda session: session.execute(text("UPDATE tenants SET name = 'Renamed'")))
    await cache.get("k", load)
    assert load.loads == 2


async def test_codes_and_message_log_writes_do_not_empty_the_caches(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    cache: VersionedCache[str, str] = VersionedCache(one)
    load = CountingLoads()
    await cache.get("k", load)
    codes = SqlVerificationCodeStore(two)
    await codes.replace(
        StoredCode(
            "c1",
            "default",
            "+4915112345678",
            "SignIn",
            "",
            "h" * 64,
            0,
            NOW,
            NOW + timedelta(minutes=5),
        )
    )
    await cache.get("k", load)
    assert load.loads == 1


async def test_misses_are_not_cached_and_the_size_is_bounded(
    two_instances: tuple[Database, Database],
) -> None:
    one, _two = two_instances
    cache: VersionedCache[str, str] = VersionedCache(one, size=2)

    async def missing() -> str | None:
        return None

    assert await cache.get("nobody", missing) is None
    for key in ("a", "b", "c"):
        await cache.get(key, CountingLoads())
    load = CountingLoads()
    await cache.get("a", load)  # the oldest entry went
    assert load.loads == 1


async def test_tenant_settings_changed_by_another_instance_apply_at_once(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    reader = Tenants(SqlTenantStore(one, cache=cache_for(one)))
    writer = Tenants(SqlTenantStore(two, cache=cache_for(two)))
    assert (await reader.get("default")).settings.verification_code_policy.max_retry_attempts == 10
    await writer.update_settings(
        "default",
        TenantSettings.model_validate({"verificationCodePolicy": {"maxRetryAttempts": 3}}),
    )
    assert (await reader.get("default")).settings.verification_code_policy.max_retry_attempts == 3


async def test_a_key_created_elsewhere_works_at_once(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    reader = SqlAdminKeyStore(one, cache=cache_for(one))
    _key, secret = await AdminKeys(SqlAdminKeyStore(two)).create("ci")
    assert await reader.find(hash_key(secret)) is not None
    assert await reader.find(hash_key("pa_unknown")) is None


async def test_the_active_connector_changed_elsewhere_is_the_next_one_read(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    reader = SqlConnectorStore(one, cache=cache_for(one))
    writer = SqlConnectorStore(two)
    first = await writer.replace("default", "Sms", "outbox-sms", "config-1", now=NOW)
    found: Any = await reader.get_by_type("default", "Sms")
    assert found.id == first.id
    second = await writer.replace("default", "Sms", "http-sms", "config-2", now=NOW)
    found = await reader.get_by_type("default", "Sms")
    assert (found.id, found.factory_id) == (second.id, "http-sms")
    await writer.delete("default", second.id)
    assert await reader.get_by_type("default", "Sms") is None


async def test_a_tenant_without_an_email_connector_is_remembered_until_one_is_added(
    two_instances: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sign-in page asks for both connectors; most tenants have no email connector, and
    that answer was a query on every page load."""
    one, two = two_instances
    reader = SqlConnectorStore(one, cache=cache_for(one))
    queries: list[str] = []
    query = reader._get_by_type

    async def counted(tenant_id: str, connector_type: str) -> Any:
        queries.append(connector_type)
        return await query(tenant_id, connector_type)

    monkeypatch.setattr(reader, "_get_by_type", counted)
    for _ in range(3):
        assert await reader.get_by_type("default", "Email") is None
    assert queries == ["Email"]
    added = await SqlConnectorStore(two).replace(
        "default", "Email", "outbox-email", "config", now=NOW
    )
    found: Any = await reader.get_by_type("default", "Email")
    assert found.id == added.id
    assert queries == ["Email", "Email"]


async def test_a_tenant_without_its_own_sign_in_experience_is_remembered_until_one_is_saved(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    reader = SqlSignInExperienceStore(one, cache=cache_for(one))
    assert await reader.get("default") is None
    assert await reader.get("default") is None
    saved = default_sign_in_experience(has_sms=True)
    await SqlSignInExperienceStore(two).save("default", saved)
    assert await reader.get("default") == saved


async def test_a_request_reads_the_counter_once_and_again_after_its_own_write(
    two_instances: tuple[Database, Database],
) -> None:
    one, two = two_instances
    rename = "UPDATE tenants SET name = 'Renamed'"
    with request_scope():
        first = await one.change_version()
        await two.write(lambda session: session.execute(text(rename)))
        # Another instance's change during the request: the request keeps what it first saw.
        assert await one.change_version() == first
        await one.write(lambda session: session.execute(text(rename + " || ''")))
        # Its own write counts at once, with the other instance's change before it.
        assert await one.change_version() == first + 2
    # A new request (or work outside any request) reads the counter afresh.
    await two.write(lambda session: session.execute(text(rename)))
    with request_scope():
        assert await one.change_version() == first + 3


async def test_a_write_to_a_table_no_trigger_watches_keeps_the_request_counter(
    two_instances: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code, a message-log row or an interaction (written on every sign-in) cannot move the
    counter: the request does not read it again after them (on PostgreSQL a round trip each)."""
    one, two = two_instances
    reads: list[int] = []
    read = one._read_change_version

    async def counted() -> int:
        reads.append(1)
        return await read()

    monkeypatch.setattr(one, "_read_change_version", counted)
    rename = "UPDATE tenants SET name = 'Renamed'"
    with request_scope():
        first = await one.change_version()
        await two.write(lambda session: session.execute(text(rename)))  # another instance
        entry = {
            "id": "m1",
            "tenant_id": "default",
            "created_at": NOW,
            "usage_type": "SignIn",
            "phone_masked": "+49*****678",
            "status": "sent",
            "test_send": False,
        }
        await one.write(changed_rows(_MESSAGE_LOG_INSERT, entry), single_statement=True)
        assert moves_no_version(changed_rows(_MESSAGE_LOG_INSERT, entry))
        assert await one.change_version() == first
        assert len(reads) == 1
        # A statement on a watched table, like any other unit, may move it: read again.
        rename_here = update(TenantRow).values(name="Again")
        assert not moves_no_version(changed_rows(rename_here))
        await one.write(changed_rows(rename_here), single_statement=True)
        assert await one.change_version() == first + 2
        assert len(reads) == 2


async def test_the_watched_tables_are_those_whose_triggers_move_the_counter(
    migrated_database: DatabaseUnderTest,
) -> None:
    database = await migrated(migrated_database)
    try:
        if database.is_sqlite:
            query = (
                "SELECT DISTINCT tbl_name FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE '%moves_version'"
            )
        else:
            query = (
                "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name LIKE '%moves_version' AND trigger_schema = current_schema()"
            )
        tables = await database.read(lambda session: set(session.scalars(text(query))))
    finally:
        await database.dispose()
    assert tables == WATCHED_TABLES
    # No cascade from a table outside the set reaches one inside it.
    for name in WATCHED_TABLES:
        for key in TenantRow.metadata.tables[name].foreign_keys:
            assert key.column.table.name in WATCHED_TABLES, (name, key.target_fullname)


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
async def test_requests_of_one_loop_turn_share_a_reading_not_yet_sent(
    two_instances: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the counter is a round trip: requests that start in the same turn share
    one read sent after all of them began; a request that starts once it is sent reads again
    (the shared one may predate a change committed before that request began)."""
    one, two = two_instances
    reads: list[object] = []
    sent = asyncio.Event()
    read = one.read

    async def counted(unit: Any) -> Any:
        reads.append(unit)
        sent.set()
        return await read(unit)

    monkeypatch.setattr(one, "read", counted)

    async def request() -> int:
        with request_scope():
            return await one.change_version()

    versions = await asyncio.gather(*(request() for _ in range(10)))
    assert len(set(versions)) == 1
    assert len(reads) == 1
    await asyncio.sleep(0)  # the turn's cached reading is forgotten
    await two.write(lambda session: session.execute(text("UPDATE tenants SET name = 'x'")))
    sent.clear()
    early = asyncio.create_task(request())
    await sent.wait()  # its reading is sent
    late = await request()
    assert len(reads) == 3
    assert await early == late == versions[0] + 1


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
def test_a_reading_left_by_a_closed_event_loop_is_not_awaited_in_the_next(
    migrated_database: DatabaseUnderTest,
) -> None:
    one = open_database(migrated_database.url, schema=migrated_database.schema)
    run_one_turn_then_close(
        one.change_version()
    )  # the reading is made; the loop stops before it is sent

    async def again() -> int:
        try:
            return await asyncio.wait_for(one.change_version(), timeout=5)
        finally:
            await one.dispose()

    assert asyncio.run(again()) >= 0
