"""The start-up schema check works without Alembic, and its constant follows the migrations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import DatabaseUnderTest

from phoneauth.storage.database import open_database
from phoneauth.storage.migrate import head_revision, upgrade
from phoneauth.storage.schema_version import SCHEMA_HEAD, stored_revision


def test_the_constant_is_alembics_head() -> None:
    assert head_revision() == SCHEMA_HEAD  # add a migration: update SCHEMA_HEAD too


async def test_the_stored_revision_is_read_with_a_plain_query(
    test_database: DatabaseUnderTest,
) -> None:
    database = open_database(test_database.url, schema=test_database.schema)
    try:
        if test_database.name == "sqlite":  # the PostgreSQL fixture comes migrated
            assert await stored_revision(database.engine) is None  # an empty database
        await upgrade(database.engine)
        assert await stored_revision(database.engine) == SCHEMA_HEAD
    finally:
        await database.dispose()


START_TWICE = """
import asyncio, sys
from phoneauth.settings import Settings
from phoneauth.web.app import create_app

async def start():
    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        pass

asyncio.run(start())
print("alembic" in sys.modules)
"""


def alembic_loaded_after_start(data_dir: Path) -> bool:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", START_TWICE],
        env={"PHONEAUTH_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1] == "True"


def test_alembic_is_loaded_only_when_the_schema_is_behind(tmp_path: Path) -> None:
    assert alembic_loaded_after_start(tmp_path)  # first start: migrates
    assert not alembic_loaded_after_start(tmp_path)  # later starts: nothing to do
