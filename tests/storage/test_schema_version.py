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
print("authlib" in sys.modules)
print("alembic" in sys.modules)
"""


def loaded_after_start(data_dir: Path) -> dict[str, bool]:
    """Which of the libraries loaded only on demand a start (and stop) of the app loaded."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", START_TWICE],
        env={"PHONEAUTH_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    authlib, alembic = done.stdout.strip().splitlines()[-2:]
    return {"authlib": authlib == "True", "alembic": alembic == "True"}


def test_alembic_is_loaded_only_when_the_schema_is_behind(tmp_path: Path) -> None:
    first, later = loaded_after_start(tmp_path), loaded_after_start(tmp_path)
    assert first["alembic"]  # first start: migrates
    assert not later["alembic"]  # later starts: nothing to do
    # Nor does any start load the OIDC provider's library (~3 MB per process): it waits for
    # the process's first OIDC request.
    assert not first["authlib"]
    assert not later["authlib"]
