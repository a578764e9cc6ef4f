"""Prepared statements: what the driver gives back is what SQLAlchemy's `execute` gives back,
and what cannot be prepared is refused, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from tests.conftest import DatabaseUnderTest

from phoneauth.domain.tenants import Tenants
from phoneauth.storage.database import Database, Statement, changed_rows, first_row, open_database
from phoneauth.storage.models import InteractionRow, TenantRow
from phoneauth.storage.prepared import NotPreparableError, Prepared
from phoneauth.storage.repositories.tenants import SqlTenantStore

_INTERACTIONS = InteractionRow.metadata.tables["interactions"]
_INSERT = insert(_INTERACTIONS)
_GET = select(_INTERACTIONS).where(
    _INTERACTIONS.c.tenant_id == bindparam("b_tenant"), _INTERACTIONS.c.id == bindparam("b_id")
)


@pytest.fixture
async def database(migrated_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    database = open_database(migrated_database.url, schema=migrated_database.schema)
    await Tenants(SqlTenantStore(database)).ensure_default()
    try:
        yield database
    finally:
        await database.dispose()


def _row(**changes: Any) -> dict[str, Any]:
    now = datetime(2026, 12, 6, 7, 30, 15, 123456, tzinfo=UTC)
    return {
        "id": "int-1",
        "tenant_id": "default",
        "data": {"event": "SignIn", "nested": {"n": [1, 2.5, None, "é"]}},
        "version": 3,
        "created_at": now,
        "expires_at": now + timedelta(minutes=10),
    } | changes


def _as_dict(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _row()}


async def test_a_row_reads_back_the_same_through_the_driver_and_through_sqlalchemy(
    database: Database,
) -> None:
    written = await database.write(changed_rows(Prepared(_INSERT), _row()))
    assert written == 1
    keys = {"b_tenant": "default", "b_id": "int-1"}
    prepared = await database.read(first_row(Prepared(_GET), keys, _as_dict))
    plain = await database.read(first_row(_GET, keys, _as_dict))
    assert prepared == plain == _row()
    assert prepared is not None
    assert prepared["created_at"].tzinfo is not None


async def test_a_unique_violation_is_sqlalchemys_integrity_error(database: Database) -> None:
    await database.write(changed_rows(Prepared(_INSERT), _row()))
    with pytest.raises(IntegrityError):
        await database.write(changed_rows(Prepared(_INSERT), _row()))


async def test_rows_changed_and_rows_returned_are_counted(database: Database) -> None:
    await database.write(changed_rows(Prepared(_INSERT), _row()))
    await database.write(changed_rows(Prepared(_INSERT), _row(id="int-2")))
    bump = Prepared(
        _INTERACTIONS.update()
        .where(_INTERACTIONS.c.tenant_id == bindparam("b_tenant"))
        .values(version=_INTERACTIONS.c.version + 1)
        .returning(_INTERACTIONS.c.id, _INTERACTIONS.c.version)
    )
    rows = await database.write(Statement(bump, {"b_tenant": "default"}, list))
    assert sorted((row.id, row.version) for row in rows) == [("int-1", 4), ("int-2", 4)]
    none = await database.write(changed_rows(bump, {"b_tenant": "elsewhere"}))
    assert none == 0


async def test_what_does_not_compile_to_one_text_is_refused(database: Database) -> None:
    expanding = Prepared(
        select(TenantRow).where(TenantRow.id.in_(bindparam("ids", expanding=True)))
    )
    with pytest.raises(NotPreparableError):
        await database.read(Statement(expanding, {"ids": ["default"]}, list))
