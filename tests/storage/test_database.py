"""The database runner: SQLite's connection settings, units that never hold a connection across
foreign awaits, locks waited for without stopping the event loop, and coded 503s."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from phoneauth.errors import DatabaseBusyError, DatabaseUnavailableError
from phoneauth.storage import database as database_module
from phoneauth.storage.database import Database, open_database


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def test_sqlite_connections_use_wal_without_an_fsync_per_commit(tmp_path: Path) -> None:
    database = open_database(sqlite_url(tmp_path / "data" / "phoneauth.db"))
    try:

        def pragmas(session: Session) -> dict[str, object]:
            return {
                name: session.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }

        found = await database.read(pragmas)
    finally:
        await database.dispose()
    # synchronous 1 = NORMAL: in WAL mode durable against crashes of the process, not power cuts.
    # busy_timeout 0: a locked file is waited for by the runner, never inside SQLite.
    assert found == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 0, "foreign_keys": 1}


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another connection (as another process would) holding the write lock for `seconds`."""
    started = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait()
    return thread


async def ticks_while(awaitable: object) -> tuple[object, int]:
    """The awaitable's result and how often another task ran meanwhile (the loop kept going)."""
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        result = await awaitable  # type: ignore[misc]
    finally:
        done = True
        await task
    return result, ticks


async def with_table(path: Path) -> Database:
    database = open_database(sqlite_url(path))
    await database.write(lambda session: session.execute(text("CREATE TABLE t (x INTEGER)")))
    return database


def insert_one(session: Session) -> None:
    session.execute(text("INSERT INTO t VALUES (1)"))


def count(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM t")).scalar_one())


async def test_a_locked_database_is_waited_for_without_stopping_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "phoneauth.db"
    database = await with_table(path)
    try:
        holder = hold_write_lock(path, 0.3)
        _, ticks = await ticks_while(database.write(insert_one))
        holder.join()
        assert await database.read(count) == 1
    finally:
        await database.dispose()
    # ~0.3 s of waiting; a blocked loop would tick once at most. (>= 3, not ~30: CI is busy.)
    assert ticks >= 3


async def test_a_lock_held_too_long_is_a_coded_busy_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", 0.1)
    path = tmp_path / "phoneauth.db"
    database = await with_table(path)
    try:
        holder = hold_write_lock(path, 0.5)
        with pytest.raises(DatabaseBusyError) as raised:
            await database.write(insert_one)
        holder.join()
        assert (raised.value.code, raised.value.status) == ("server.busy", 503)
        assert await database.read(count) == 0
    finally:
        await database.dispose()


async def test_a_failing_unit_is_rolled_back_whole(tmp_path: Path) -> None:
    database = await with_table(tmp_path / "phoneauth.db")

    def insert_then_fail(session: Session) -> None:
        insert_one(session)
        raise RuntimeError("the unit changed its mind")

    try:
        with pytest.raises(RuntimeError):
            await database.write(insert_then_fail)
        assert await database.read(count) == 0
    finally:
        await database.dispose()


async def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    database = open_database(sqlite_url(tmp_path / "phoneauth.db"))
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="no such table"):
            await database.read(lambda session: session.execute(text("SELECT * FROM missing")))
        assert time.monotonic() - started < 0.5
    finally:
        await database.dispose()


async def test_units_of_concurrent_requests_never_wait_for_each_other(tmp_path: Path) -> None:
    """A unit runs from BEGIN to COMMIT without an await, so a request that waits for something
    else (an SMS provider) holds no connection: 200 concurrent requests that each write, wait
    50 ms and write again finish in about one wait, not 200 queued ones."""
    database = await with_table(tmp_path / "phoneauth.db")

    async def request() -> None:
        await database.write(insert_one)
        await asyncio.sleep(0.05)
        await database.write(insert_one)

    try:
        started = time.monotonic()
        await asyncio.gather(*(request() for _ in range(200)))
        elapsed = time.monotonic() - started
        assert await database.read(count) == 400
    finally:
        await database.dispose()
    assert elapsed < 2.0


async def test_an_unreachable_postgresql_is_a_coded_unavailable_error(closed_port: int) -> None:
    database = open_database(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/test")
    try:
        with pytest.raises(DatabaseUnavailableError) as raised:
            await database.ping()
        assert (raised.value.code, raised.value.status) == ("server.unavailable", 503)
        assert database.outages.is_down
    finally:
        await database.dispose()


async def test_an_in_memory_sqlite_database_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        open_database("sqlite+aiosqlite:///:memory:")


async def test_the_wal_starts_over_under_steady_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints run in a thread while the loop goes on writing. A checkpoint that only copies
    what it can without stopping writers never reaches the end of a WAL that keeps growing, so
    the WAL never started over: 1.1 GB after 30,000 codes under `make bench`, and its index
    (the -shm file, mapped into the server) 7 MB of its memory at 100,000."""
    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 50)
    monkeypatch.setattr(database_module, "WAL_SIZE_LIMIT", 1_000_000)
    path = tmp_path / "phoneauth.db"
    database = await with_table(path)

    def insert_a_page(session: Session) -> None:
        session.execute(text("INSERT INTO t VALUES (randomblob(3000))"))

    try:
        for _ in range(3_000):  # ~12 MB of pages written to the WAL, one commit each
            await database.write(insert_a_page)
            await asyncio.sleep(0)  # other requests' turn, as in a server
        await database.wait_for_checkpoint()
        wal_bytes = path.with_name(path.name + "-wal").stat().st_size
        assert await database.read(count) == 3_000
    finally:
        await database.dispose()
    assert wal_bytes < 3_000_000


async def test_a_long_read_elsewhere_holds_writes_back_only_briefly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RESTART step waits for readers while writes wait for it: a backup reading for
    seconds in another process must not stall every write for as long."""
    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 20)
    monkeypatch.setattr(database_module, "WAL_SIZE_LIMIT", 0)  # a RESTART every time
    path = tmp_path / "phoneauth.db"
    database = await with_table(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # holds its snapshot of the WAL
    slowest = 0.0
    try:
        for _ in range(100):
            started = time.monotonic()
            await database.write(insert_one)
            slowest = max(slowest, time.monotonic() - started)
            await asyncio.sleep(0.001)
        await database.wait_for_checkpoint()
        assert await database.read(count) == 100
    finally:
        reader.execute("COMMIT")
        reader.close()
        await database.dispose()
    assert slowest < 0.5  # a checkpoint's wait, never the reader's whole read
