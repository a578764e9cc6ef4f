from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, TextClause, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import DatabaseUnderTest

from phoneauth.storage.database import open_database
from phoneauth.storage.migrate import alembic_config, current_revision, head_revision, upgrade
from phoneauth.storage.models import Base


async def test_upgrade_head_matches_the_models_and_is_idempotent(
    test_database: DatabaseUnderTest,
) -> None:
    engine = open_database(test_database.url, schema=test_database.schema).engine
    await upgrade(engine)
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    await engine.dispose()


# The models do not state these WHERE clauses (see `VerificationCodeRow`): the schema does.
PARTIAL_INDEXES = {
    "uq_verification_codes_live": "consumed_at is null",
    "ix_message_log_recipient_sealed": "recipient_sealed is not null",
}


async def test_partial_indexes_are_partial_on_both_databases(
    test_database: DatabaseUnderTest,
) -> None:
    """One waiting code per phone, use and scope, however many were used before it: the unique
    index covers only codes not yet consumed."""
    engine = open_database(test_database.url, schema=test_database.schema).engine
    await upgrade(engine)
    if test_database.name == "sqlite":
        query = text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name")
    else:
        query = text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = :schema AND indexname = :name"
        )
    async with engine.connect() as connection:
        for name, condition in PARTIAL_INDEXES.items():
            found = await connection.scalar(query, {"name": name, "schema": test_database.schema})
            assert found is not None, name
            assert "where" in found.lower(), found
            where = found.lower().rpartition("where")[2]
            assert where.strip(" ()") == condition, found
    await engine.dispose()


async def test_interactions_in_progress_survive_the_version_column(
    test_database: DatabaseUnderTest,
) -> None:
    """0003 adds `interactions.version`: a row saved before the upgrade reads as version 1."""
    engine = open_database(test_database.url, schema=test_database.schema).engine

    def to(revision: str) -> Callable[[Connection], None]:
        return lambda connection: command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(to("0002"))
        await connection.execute(
            text(
                "INSERT INTO tenants (id, name, kind, settings, created_at) VALUES "
                "('t1', 'T', 'development', '{}', CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO interactions (id, tenant_id, data, created_at, expires_at) VALUES "
                "('i1', 't1', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    await upgrade(engine)
    async with engine.connect() as connection:
        version = await connection.scalar(text("SELECT version FROM interactions WHERE id = 'i1'"))
    assert version == 1
    await engine.dispose()


async def test_users_and_their_sessions_survive_0008_both_ways(
    test_database: DatabaseUnderTest,
) -> None:
    """0008 only adds columns and an index (no SQLite table rebuild, which would cascade to the
    sessions): a user from before reads with Logto's defaults, and downgrading keeps them too."""
    engine = open_database(test_database.url, schema=test_database.schema).engine

    def to(revision: str, down: bool = False) -> Callable[[Connection], None]:
        move = command.downgrade if down else command.upgrade
        return lambda connection: move(alembic_config(connection), revision)

    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.run_sync(to("0007", down=True))
        for statement in (
            "INSERT INTO tenants (id, name, kind, settings, created_at) VALUES "
            "('t1', 'T', 'development', '{}', CURRENT_TIMESTAMP)",
            "INSERT INTO users (id, tenant_id, phone, mfa_factors, profile, created_at, "
            "updated_at) VALUES ('u1', 't1', '+4915112345678', '[]', '{}', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)",
            "INSERT INTO sessions (id, tenant_id, user_id, token_hash, created_at, expires_at) "
            "VALUES ('s1', 't1', 'u1', 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        ):
            await connection.execute(text(statement))
    await upgrade(engine)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT phone, custom_data, is_suspended, primary_email FROM users")
            )
        ).one()
        sessions = await connection.scalar(text("SELECT count(*) FROM sessions"))
    assert row[0] == "+4915112345678"
    assert row[1] in ("{}", {})  # SQLite reads JSON text here, PostgreSQL a dict
    assert (bool(row[2]), row[3], sessions) == (False, None, 1)
    async with engine.begin() as connection:
        await connection.run_sync(to("0007", down=True))
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM sessions")) == 1
    await engine.dispose()


async def test_waiting_codes_survive_0009_both_ways(test_database: DatabaseUnderTest) -> None:
    """0009 widens the code's recipient for email addresses: a phone code waiting before it
    still waits after it, an address fits, and going back keeps the phone codes (the address
    codes, which no older code reads, are dropped) and the partial unique index."""
    engine = open_database(test_database.url, schema=test_database.schema).engine

    def to(revision: str, down: bool = False) -> Callable[[Connection], None]:
        move = command.downgrade if down else command.upgrade
        return lambda connection: move(alembic_config(connection), revision)

    insert = text(
        "INSERT INTO verification_codes (id, tenant_id, phone, usage_type, scope, code_hash, "
        "try_count, created_at, expires_at) VALUES (:id, 't1', :recipient, "
        "'Generic', '', 'h', 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )

    def code(row_id: str, recipient: str) -> tuple[TextClause, dict[str, str]]:
        return insert, {"id": row_id, "recipient": recipient}

    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.run_sync(to("0008", down=True))
        await connection.execute(
            text(
                "INSERT INTO tenants (id, name, kind, settings, created_at) VALUES "
                "('t1', 'T', 'development', '{}', CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(*code("c1", "+4915112345678"))
    await upgrade(engine)
    address = "a.rather.long.local.part.for.testing@mail.subdomain.example.com"
    async with engine.begin() as connection:
        await connection.execute(*code("c2", address))
        rows = (
            await connection.execute(
                text("SELECT id, phone, try_count FROM verification_codes ORDER BY id")
            )
        ).all()
    assert [tuple(row) for row in rows] == [("c1", "+4915112345678", 2), ("c2", address, 2)]
    async with engine.begin() as connection:
        await connection.run_sync(to("0008", down=True))
    async with engine.connect() as connection:
        kept = (await connection.execute(text("SELECT id, phone FROM verification_codes"))).all()
    assert [tuple(row) for row in kept] == [("c1", "+4915112345678")]
    # The one-waiting-code rule holds after the round trip: a second waiting code is refused.
    async with engine.connect() as connection:
        with pytest.raises(DBAPIError):
            await connection.execute(*code("c3", "+4915112345678"))
    await engine.dispose()


async def test_message_log_rows_survive_0011_both_ways(test_database: DatabaseUnderTest) -> None:
    """0011 adds per-attempt delivery columns: a row logged before reads them as NULL ("not
    known"), and the standby tables move the change counter like `connectors` does."""
    engine = open_database(test_database.url, schema=test_database.schema).engine

    def to(revision: str, down: bool = False) -> Callable[[Connection], None]:
        move = command.downgrade if down else command.upgrade
        return lambda connection: move(alembic_config(connection), revision)

    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.run_sync(to("0010", down=True))
        await connection.execute(
            text(
                "INSERT INTO tenants (id, name, kind, settings, created_at) VALUES "
                "('t1', 'T', 'development', '{}', CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO message_log (id, tenant_id, created_at, usage_type, phone_masked, "
                "status, test_send) VALUES ('m1', 't1', CURRENT_TIMESTAMP, 'SignIn', "
                "'+4915*****5678', 'sent', false)"
            )
        )
    await upgrade(engine)
    version = text("SELECT version FROM change_versions WHERE id = 1")
    async with engine.begin() as connection:
        row = (
            await connection.execute(
                text("SELECT send_id, attempt, delivery_status FROM message_log WHERE id = 'm1'")
            )
        ).one()
        assert tuple(row) == (None, None, None)
        before = await connection.scalar(version)
        await connection.execute(
            text(
                "INSERT INTO sms_standby_connectors (id, tenant_id, connector_id, "
                "config_encrypted, created_at, updated_at) VALUES ('s1', 't1', 'outbox-sms', "
                "'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        assert await connection.scalar(version) == before + 1
    async with engine.begin() as connection:
        await connection.run_sync(to("0010", down=True))
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM message_log")) == 1
    await engine.dispose()


async def test_message_log_rows_survive_0013_both_ways(test_database: DatabaseUnderTest) -> None:
    """0013 adds the sealed recipient: a row logged before reads it as NULL (nothing kept), a
    sealed one is found through the partial index, and going back keeps every row."""
    engine = open_database(test_database.url, schema=test_database.schema).engine

    def to(revision: str, down: bool = False) -> Callable[[Connection], None]:
        move = command.downgrade if down else command.upgrade
        return lambda connection: move(alembic_config(connection), revision)

    insert_row = (
        "INSERT INTO message_log (id, tenant_id, created_at, usage_type, phone_masked, status, "
        "test_send, delivery_status) VALUES (:id, 't1', CURRENT_TIMESTAMP, 'SignIn', "
        "'+8613*****8000', 'sent', false, 'accepted')"
    )
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.run_sync(to("0012", down=True))
        await connection.execute(
            text(
                "INSERT INTO tenants (id, name, kind, settings, created_at) VALUES "
                "('t1', 'T', 'development', '{}', CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(text(insert_row), {"id": "m1"})
    await upgrade(engine)
    async with engine.begin() as connection:
        sealed = text("SELECT recipient_sealed FROM message_log WHERE id = 'm1'")
        assert await connection.scalar(sealed) is None
        await connection.execute(text(insert_row), {"id": "m2"})
        await connection.execute(
            text("UPDATE message_log SET recipient_sealed = 'gAAAA-sealed' WHERE id = 'm2'")
        )
        kept = text("SELECT id FROM message_log WHERE recipient_sealed IS NOT NULL")
        assert (await connection.execute(kept)).scalars().all() == ["m2"]
    async with engine.begin() as connection:
        await connection.run_sync(to("0012", down=True))
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM message_log")) == 2
        with pytest.raises(DBAPIError):
            await connection.execute(text("SELECT recipient_sealed FROM message_log"))
    await engine.dispose()
