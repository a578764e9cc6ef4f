"""Group commit of message-log rows (`GroupedInsert`, `Batch`), on SQLite and PostgreSQL: rows
added in one loop turn are one unit; each caller returns once its row is stored; a row at fault
fails only its caller; a busy database fails every caller of the batch; a batch is all or none."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from tests.closed_loops import run_one_turn_then_close
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import make_tenant
from tests.storage.message_log_rows import COUNT, INSERT, row
from tests.storage.test_database import hold_write_lock

from phoneauth.errors import DatabaseBusyError
from phoneauth.storage import database as database_module
from phoneauth.storage.database import Batch, Database, open_database
from phoneauth.storage.grouped_inserts import GroupedInsert


@pytest.fixture
def database(default_tenant_database: Database) -> Database:
    return default_tenant_database


def count_units(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The units `database.write` runs, in order."""
    units: list[object] = []
    write = database.write

    async def counted(unit: Any, **options: Any) -> Any:
        units.append(unit)
        return await write(unit, **options)

    monkeypatch.setattr(database, "write", counted)
    return units


async def test_rows_of_one_loop_turn_are_one_unit_and_every_caller_sees_its_row_stored(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    inserts = GroupedInsert(database, INSERT)
    units = count_units(database, monkeypatch)
    seen: list[int] = []

    async def add(n: int) -> None:
        await inserts.add(row(n))
        seen.append(await database.read(COUNT))  # stored before add returned

    await asyncio.gather(*(add(n) for n in range(30)))
    assert len(units) == 1
    assert isinstance(units[0], Batch)
    assert len(units[0].rows) == 30
    assert seen == [30] * 30
    await inserts.add(row(99))  # alone: one plain statement
    assert len(units) == 2
    assert not isinstance(units[1], Batch)
    assert await database.read(COUNT) == 31


async def test_a_row_at_fault_fails_only_its_caller(database: Database) -> None:
    inserts = GroupedInsert(database, INSERT)
    await inserts.add(row(5))
    results = await asyncio.gather(
        *(inserts.add(row(n)) for n in range(10)), return_exceptions=True
    )
    assert [n for n, result in enumerate(results) if result is not None] == [5]
    assert isinstance(results[5], IntegrityError)
    assert await database.read(COUNT) == 10


async def test_a_cancelled_caller_stops_neither_the_batch_nor_its_own_row(
    database: Database,
) -> None:
    inserts = GroupedInsert(database, INSERT)
    tasks = [asyncio.create_task(inserts.add(row(n))) for n in range(5)]
    await asyncio.sleep(0)  # every caller waits for the batch
    tasks[2].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[2], asyncio.CancelledError)
    assert [r for n, r in enumerate(results) if n != 2] == [None] * 4
    assert await database.read(COUNT) == 5  # the SMS was sent: its row is kept


async def test_a_batch_is_all_or_none(database: Database) -> None:
    await database.write(Batch(INSERT, [row(3)]), single_statement=True)
    with pytest.raises(IntegrityError):
        await database.write(Batch(INSERT, [row(1), row(2), row(3)]), single_statement=True)
    assert await database.read(COUNT) == 1
    assert await database.write(Batch(INSERT, [row(1), row(2)]), single_statement=True) == 2
    assert await database.read(COUNT) == 3


def test_a_batch_holds_rows_of_the_same_columns() -> None:
    with pytest.raises(ValueError, match="same columns"):
        Batch(INSERT, [row(1), {**row(2), "country": "DE"}])
    with pytest.raises(ValueError, match="one or more"):
        Batch(INSERT, [])


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_a_busy_sqlite_file_fails_every_caller_then_a_batch_waits_its_turn(
    database: Database, migrated_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", 0.1)
    inserts = GroupedInsert(database, INSERT)
    path = migrated_database.url.split("///", 1)[1]
    holder = hold_write_lock(path, 0.6)  # type: ignore[arg-type]
    results = await asyncio.gather(*(inserts.add(row(n)) for n in range(4)), return_exceptions=True)
    holder.join()
    assert all(isinstance(result, DatabaseBusyError) for result in results), results
    assert await database.read(COUNT) == 0
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", 5.0)
    holder = hold_write_lock(path, 0.3)  # type: ignore[arg-type]
    await asyncio.gather(*(inserts.add(row(n)) for n in range(4)))
    holder.join()
    assert await database.read(COUNT) == 4
    with sqlite3.connect(path) as other:  # committed for every connection
        assert other.execute("SELECT count(*) FROM message_log").fetchone() == (4,)


def test_rows_left_waiting_by_a_closed_event_loop_do_not_stall_the_next(
    migrated_sqlite_file: Path, tmp_path: Path
) -> None:
    """An app stopped with a row waiting (its loop closed before the writer ran) and started
    again in a new loop: the next row is written, not queued behind the dead one."""
    shutil.copy(migrated_sqlite_file, tmp_path / "phoneauth.db")
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'phoneauth.db'}")
    inserts = GroupedInsert(database, INSERT)
    asyncio.run(make_tenant(database, "default"))
    run_one_turn_then_close(
        inserts.add(row(1))
    )  # the row waits; the loop stops before its writer runs

    async def again() -> int:
        await asyncio.wait_for(inserts.add(row(2)), timeout=5)
        count = await database.read(COUNT)
        await database.dispose()
        return int(count)

    assert asyncio.run(again()) == 1
