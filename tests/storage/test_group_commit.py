"""SQLite's group commit (`Database.write` of one `Prepared` statement): the writes of one loop
turn are one transaction, run in the order they came, each caller answered once it committed;
a statement at fault fails only its caller; a locked file is waited for, then a coded 503."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from tests.closed_loops import run_one_turn_then_close
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import make_tenant
from tests.storage.message_log_rows import COUNT, INSERT, TABLE, row
from tests.storage.test_database import hold_write_lock

from phoneauth.errors import DatabaseBusyError
from phoneauth.storage import database as database_module
from phoneauth.storage.database import Database, changed_rows, open_database
from phoneauth.storage.prepared import Prepared

SQLITE = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)

# Marks a row as delivered only while it is still `sent`: of two such updates, one changes it.
DELIVER = Prepared(
    update(TABLE)
    .where(TABLE.c.id == bindparam("b_id"), TABLE.c.status == "sent")
    .values(status="delivered")
)


@pytest.fixture
def database(default_tenant_database: Database) -> Database:
    return default_tenant_database


def file_of(migrated_database: DatabaseUnderTest) -> str:
    return migrated_database.url.split("///", 1)[1]


def stored_elsewhere(path: str) -> int:
    """Rows another connection (another process) sees: only committed ones."""
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT count(*) FROM message_log").fetchone()[0])


@SQLITE
async def test_writes_of_one_loop_turn_are_one_transaction_and_each_caller_returns_committed(
    database: Database, migrated_database: DatabaseUnderTest
) -> None:
    path = file_of(migrated_database)
    statements: list[str] = []
    await database.read(COUNT)  # the process's connection is open
    database._sqlite_driver_connection().set_trace_callback(statements.append)
    seen_elsewhere: list[int] = []

    async def add(n: int) -> int:
        changed = await database.write(changed_rows(INSERT, row(n)), single_statement=True)
        seen_elsewhere.append(stored_elsewhere(path))  # committed before `write` returned
        return changed

    changed = await asyncio.gather(*(add(n) for n in range(20)))

    assert changed == [1] * 20
    assert seen_elsewhere == [20] * 20
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert statements.count("COMMIT") == 1
    assert sum(statement.startswith("INSERT INTO message_log") for statement in statements) == 20


@SQLITE
async def test_statements_run_in_the_order_they_came_as_if_each_ran_alone(
    database: Database,
) -> None:
    await database.write(changed_rows(INSERT, row(1)), single_statement=True)

    first, second = await asyncio.gather(
        database.write(changed_rows(DELIVER, {"b_id": "m0001"}), single_statement=True),
        database.write(changed_rows(DELIVER, {"b_id": "m0001"}), single_statement=True),
    )

    # The second sees the first's change, as two commits one after the other would.
    assert (first, second) == (1, 0)


@SQLITE
async def test_a_statement_at_fault_fails_only_its_caller(
    database: Database, migrated_database: DatabaseUnderTest
) -> None:
    await database.write(changed_rows(INSERT, row(1)), single_statement=True)

    results = await asyncio.gather(
        *(
            database.write(changed_rows(INSERT, row(n)), single_statement=True)
            for n in (2, 3, 1, 4)  # m0001 exists: its primary key refuses it
        ),
        return_exceptions=True,
    )

    assert [results[0], results[1], results[3]] == [1, 1, 1], results
    assert isinstance(results[2], IntegrityError)
    assert stored_elsewhere(file_of(migrated_database)) == 4


@SQLITE
async def test_a_locked_file_is_waited_for_then_the_group_commits(
    database: Database, migrated_database: DatabaseUnderTest
) -> None:
    path = file_of(migrated_database)
    holder = hold_write_lock(path, 0.3)  # type: ignore[arg-type]

    changed = await asyncio.gather(
        *(database.write(changed_rows(INSERT, row(n)), single_statement=True) for n in range(5))
    )

    holder.join()
    assert changed == [1] * 5
    assert stored_elsewhere(path) == 5


@SQLITE
async def test_a_lock_held_too_long_fails_every_caller_with_503_and_stores_nothing(
    database: Database, migrated_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", 0.1)
    path = file_of(migrated_database)
    holder = hold_write_lock(path, 0.5)  # type: ignore[arg-type]

    results = await asyncio.gather(
        *(database.write(changed_rows(INSERT, row(n)), single_statement=True) for n in range(5)),
        return_exceptions=True,
    )

    holder.join()
    assert all(isinstance(result, DatabaseBusyError) for result in results), results
    assert {(error.code, error.status) for error in results} == {("server.busy", 503)}  # type: ignore[union-attr]
    assert stored_elsewhere(path) == 0


@SQLITE
async def test_a_cancelled_caller_leaves_the_others_answered(database: Database) -> None:
    waiting = [
        asyncio.create_task(database.write(changed_rows(INSERT, row(n)), single_statement=True))
        for n in range(3)
    ]
    await asyncio.sleep(0)  # all three joined the group
    waiting[1].cancel()

    results = await asyncio.gather(*waiting, return_exceptions=True)

    assert [results[0], results[2]] == [1, 1]
    assert isinstance(results[1], asyncio.CancelledError)


def test_writes_left_waiting_by_a_closed_event_loop_do_not_stall_the_next(
    migrated_sqlite_file: Path, tmp_path: Path
) -> None:
    """An app stopped with a write waiting (its loop closed before the group ran) and started
    again in a new loop: the next write commits, not queued behind the dead one."""
    shutil.copy(migrated_sqlite_file, tmp_path / "phoneauth.db")
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'phoneauth.db'}")
    asyncio.run(make_tenant(database, "default"))
    run_one_turn_then_close(database.write(changed_rows(INSERT, row(1)), single_statement=True))

    async def again() -> int:
        await asyncio.wait_for(
            database.write(changed_rows(INSERT, row(2)), single_statement=True), timeout=5
        )
        count = await database.read(COUNT)
        await database.dispose()
        return int(count)

    assert asyncio.run(again()) == 1
