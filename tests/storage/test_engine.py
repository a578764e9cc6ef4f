"""The SQLite engine: the settings of its connection, calls made inline, locks waited for
without stopping the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from phoneauth.storage import inline_sqlite
from phoneauth.storage.engine import create_engine


async def test_sqlite_connections_use_wal_without_an_fsync_per_commit(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'phoneauth.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        await engine.dispose()
    # synchronous 1 = NORMAL: in WAL mode durable against crashes of the process, not power cuts.
    # busy_timeout 0: a locked statement is retried without stopping the loop (inline_sqlite).
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 0,
        "foreign_keys": 1,
    }


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


async def test_a_locked_database_is_waited_for_without_stopping_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "phoneauth.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        holder = hold_write_lock(path, 0.3)

        async def insert() -> int:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
            async with engine.connect() as connection:
                return int((await connection.execute(text("SELECT count(*) FROM t"))).scalar_one())

        count, ticks = await ticks_while(insert())
        holder.join()
    finally:
        await engine.dispose()
    assert count == 1
    # ~0.3 s of waiting; a blocked loop would tick once at most. (>= 3, not ~30: CI is busy.)
    assert ticks >= 3


async def test_a_lock_held_too_long_fails_as_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inline_sqlite, "BUSY_TIMEOUT_S", 0.1)
    path = tmp_path / "phoneauth.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        holder = hold_write_lock(path, 0.5)
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        holder.join()
    finally:
        await engine.dispose()


async def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'phoneauth.db'}")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="no such table"):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT * FROM missing"))
        assert time.monotonic() - started < 0.5
    finally:
        await engine.dispose()
