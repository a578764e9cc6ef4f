from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from tests.conftest import DatabaseUnderTest

from phoneauth.storage.engine import create_engine
from phoneauth.storage.migrate import current_revision, head_revision, upgrade
from phoneauth.storage.models import Base


async def test_upgrade_head_matches_the_models_and_is_idempotent(
    test_database: DatabaseUnderTest,
) -> None:
    engine = create_engine(test_database.url, schema=test_database.schema)
    await upgrade(engine)
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    await engine.dispose()
