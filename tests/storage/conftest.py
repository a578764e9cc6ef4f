"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import make_tenant, migrated

from phoneauth.storage.database import Database


@pytest.fixture
async def default_tenant_database(
    migrated_database: DatabaseUnderTest,
) -> AsyncIterator[Database]:
    """A migrated database (each kind under test) with the `default` tenant."""
    database = await migrated(migrated_database)
    await make_tenant(database, "default")
    yield database
    await database.dispose()
