from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
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
