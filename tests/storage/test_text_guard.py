"""Text neither database can take is refused before any statement runs, the same way on both,
and no database error carries the values it was sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.tenants import TenantNotFoundError, Tenants
from phoneauth.errors import UnstorableTextError
from phoneauth.storage.database import Batch, Database, changed_rows, first_row
from phoneauth.storage.grouped_inserts import GroupedInsert
from phoneauth.storage.models import InteractionRow
from phoneauth.storage.prepared import Prepared
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.text_guard import is_storable

_INTERACTIONS = InteractionRow.metadata.tables["interactions"]
_INSERT = Prepared(insert(_INTERACTIONS))
_GET = select(_INTERACTIONS.c.id).where(_INTERACTIONS.c.id == bindparam("b_id"))
UNSTORABLE = ["a\x00b", "\x00", "é\x00", "a\ud800b", "\udfff"]


@pytest.fixture
def database(default_tenant_database: Database) -> Database:
    return default_tenant_database


def _row(**changes: Any) -> dict[str, Any]:
    now = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    return {
        "id": "int-1",
        "tenant_id": "default",
        "data": {"event": "SignIn"},
        "version": 1,
        "created_at": now,
        "expires_at": now + timedelta(minutes=10),
    } | changes


async def _count(database: Database) -> int:
    return await database.read(
        lambda s: s.execute(select(func.count()).select_from(_INTERACTIONS)).scalar_one()
    )


@pytest.mark.parametrize("text", UNSTORABLE)
async def test_every_path_to_the_database_refuses_it(database: Database, text: str) -> None:
    def orm_read(session: Session) -> object:
        return session.execute(_GET, {"b_id": text}).first()

    def orm_write(session: Session) -> object:
        return session.execute(insert(_INTERACTIONS), [_row(id=text)])

    units = [
        database.read(first_row(Prepared(_GET), {"b_id": text}, tuple)),  # straight to the driver
        database.read(first_row(_GET, {"b_id": text}, tuple)),  # through SQLAlchemy
        database.read(orm_read),  # an ORM session
        database.write(changed_rows(_INSERT, _row(id=text))),  # the group commit (SQLite)
        database.write(changed_rows(_INSERT, _row(id=text)), single_statement=True),
        database.write(Batch(_INSERT, [_row(id="ok-1"), _row(id=text)])),  # executemany
        database.write(orm_write),
        GroupedInsert(database, _INSERT).add(_row(id=text, data={"note": "fine"})),
    ]
    for unit in units:
        with pytest.raises(UnstorableTextError) as refused:
            await unit
        assert (refused.value.status, refused.value.code) == (400, "guard.invalid_input")
    assert await _count(database) == 0  # nothing of a refused batch was written


async def test_other_text_round_trips(database: Database) -> None:
    texts = ["é中 ü", "emoji 📱", "tab\tand\nnewline", "json \\u0000 escaped"]
    for number, text in enumerate(texts):
        await database.write(changed_rows(_INSERT, _row(id=f"i{number}", data={"t": text})))
    # NUL inside JSON is written escaped (`\u0000`), which both databases store.
    await database.write(changed_rows(_INSERT, _row(id="json-nul", data={"t": "a\x00b"})))
    assert await _count(database) == len(texts) + 1
    assert all(is_storable(text) for text in texts)


async def test_a_tenant_id_with_nul_names_no_tenant(database: Database) -> None:
    tenants = Tenants(SqlTenantStore(database))
    with pytest.raises(TenantNotFoundError):
        await tenants.get("default\x00")


async def test_database_errors_carry_no_values(database: Database) -> None:
    secret = "+4915112345678"
    row = _row(id="dup", data={"phone": secret})
    await database.write(changed_rows(_INSERT, row))
    plain_insert = insert(_INTERACTIONS)
    for again in (
        database.write(changed_rows(_INSERT, row)),  # straight to the driver
        database.write(changed_rows(plain_insert, row)),  # through SQLAlchemy
        database.write(Batch(_INSERT, [row, _row(id="other")])),
    ):
        with pytest.raises(IntegrityError) as failed:
            await again
        assert secret not in str(failed.value)
        assert "hidden due to hide_parameters" in str(failed.value)


async def test_a_lone_surrogate_inside_json_is_refused_on_every_path(database: Database) -> None:
    def orm_write(session: Session) -> object:
        return session.execute(insert(_INTERACTIONS), [_row(data={"x": ["\ud800"]})])

    for unit in (
        database.write(changed_rows(_INSERT, _row(data={"note": "a\udfffb"}))),
        database.write(changed_rows(insert(_INTERACTIONS), _row(data={"k\ud800": 1}))),
        database.write(orm_write),
    ):
        with pytest.raises(UnstorableTextError):
            await unit
    assert await _count(database) == 0
    # Characters beyond the BMP (written as surrogate pairs in JSON) are stored as ever.
    phone = {"note": "📱 Schöne Grüße", "nested": ["𝄞"]}
    await database.write(changed_rows(_INSERT, _row(data=phone)))
    read = await database.read(
        first_row(select(_INTERACTIONS.c.data).where(_INTERACTIONS.c.id == "int-1"), {}, tuple)
    )
    assert read == (phone,)


async def test_interactions_saved_together_refuse_only_the_one_at_fault(
    database: Database,
) -> None:
    from phoneauth.domain.interactions import StoredInteraction
    from phoneauth.storage.repositories.interactions import SqlInteractionStore

    store = SqlInteractionStore(database)
    now = datetime.now(UTC)
    for name in ("good", "bad"):
        await store.create(
            StoredInteraction(name, "default", {"n": 0}, now, now + timedelta(minutes=10))
        )
    # Both in one loop turn: on PostgreSQL one statement for both, then each alone.
    good, bad = await asyncio.gather(
        store.update("default", "good", {"n": 1}, expected_version=1),
        store.update("default", "bad", {"n": "\ud800"}, expected_version=1),
        return_exceptions=True,
    )
    assert good is True
    assert isinstance(bad, UnstorableTextError)
    stored = await store.get("default", "bad")
    assert stored is not None
    assert stored.data == {"n": 0}


def test_arrays_are_checked_item_by_item() -> None:
    from phoneauth.storage.text_guard import refuse_unstorable

    refuse_unstorable([["a", "é"], "b", 1, None])
    for bad in (["ok", "a\x00"], [["x", "\udc00"]]):
        with pytest.raises(UnstorableTextError):
            refuse_unstorable(bad)
