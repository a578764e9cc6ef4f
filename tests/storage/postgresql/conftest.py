"""The storage tests that only PostgreSQL concerns (its plans, its held connections): every
test in this folder runs on PostgreSQL only, on a fresh `database`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.conftest import DatabaseUnderTest

from phoneauth.storage.database import Database, open_database


@pytest.fixture(scope="module")
def database_kind() -> str:
    """PostgreSQL only: SQLite reads in-process one key at a time, on its one connection."""
    return "postgresql"


@pytest.fixture
async def database(test_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    """A fresh schema, migrated and never analysed, opened as the service opens it."""
    database = open_database(test_database.url, schema=test_database.schema)
    yield database
    await database.dispose()
