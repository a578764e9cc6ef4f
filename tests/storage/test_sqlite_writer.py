"""Group commit on SQLite: one transaction per loop turn, each write isolated, locks waited out."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from tests.storage.test_engine import hold_write_lock, ticks_while

from phoneauth.storage import inline_sqlite, sqlite_writer
from phoneauth.storage.sqlite_writer import GroupCommitWriter


@pytest.fixture
def writer(tmp_path: Path) -> GroupCommitWriter:
    setup = sqlite3.connect(tmp_path / "w.db")
    setup.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    setup.close()
    return GroupCommitWriter(str(tmp_path / "w.db"))


def insert(x: int) -> sqlite_writer.Write:
    return lambda db: db.execute("INSERT INTO t VALUES (?)", (x,)).rowcount


def rows(path: Path) -> list[int]:
    other = sqlite3.connect(path)
    try:
        return [row[0] for row in other.execute("SELECT x FROM t ORDER BY x")]
    finally:
        other.close()


async def test_writes_of_one_turn_share_one_commit(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    commits = 0

    def count_commits(statement: str) -> None:
        nonlocal commits
        commits += statement == "COMMIT"

    writer.connection.set_trace_callback(count_commits)
    results = await asyncio.gather(*(writer.run(insert(x)) for x in range(50)))
    writer.close()
    assert results == [1] * 50
    assert commits == 1
    assert rows(tmp_path / "w.db") == list(range(50))


async def test_a_failing_write_leaves_the_others_alone(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    results = await asyncio.gather(
        writer.run(insert(1)), writer.run(insert(1)), writer.run(insert(2)), return_exceptions=True
    )
    writer.close()
    assert results[0] == 1
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert results[2] == 1
    assert rows(tmp_path / "w.db") == [1, 2]


async def test_a_caller_resumes_only_after_its_write_is_committed(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    await writer.run(insert(7))
    assert rows(tmp_path / "w.db") == [7]  # visible to another connection at once
    writer.close()


async def test_a_locked_file_is_waited_for_without_stopping_the_loop(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    holder = hold_write_lock(tmp_path / "w.db", 0.3)
    result, ticks = await ticks_while(asyncio.gather(writer.run(insert(1)), writer.run(insert(2))))
    holder.join()
    writer.close()
    assert result == [1, 1]
    assert ticks >= 3  # the loop kept serving others while the batch waited
    assert rows(tmp_path / "w.db") == [1, 2]


async def test_a_lock_held_too_long_fails_every_waiting_write(
    writer: GroupCommitWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_writer, "BUSY_TIMEOUT_S", 0.1)
    assert inline_sqlite.BUSY_TIMEOUT_S == 5.0  # only the writer's limit is shortened here
    holder = hold_write_lock(tmp_path / "w.db", 0.5)
    results = await asyncio.gather(
        writer.run(insert(1)), writer.run(insert(2)), return_exceptions=True
    )
    holder.join()
    assert all(isinstance(result, sqlite3.OperationalError) for result in results), results
    assert await writer.run(insert(3)) == 1  # and the writer works again afterwards
    writer.close()
    assert rows(tmp_path / "w.db") == [3]


async def test_data_version_moves_on_other_commits_only(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    before = writer.data_version()
    await writer.run(insert(1))
    assert writer.data_version() == before
    other = sqlite3.connect(tmp_path / "w.db")
    other.execute("INSERT INTO t VALUES (2)")
    other.commit()
    other.close()
    assert writer.data_version() != before
    writer.close()


async def test_closing_lands_the_writes_still_waiting(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    pending = asyncio.ensure_future(writer.run(insert(5)))
    await asyncio.sleep(0)  # queued, not yet flushed
    writer.close()
    assert await pending == 1
    assert rows(tmp_path / "w.db") == [5]


async def test_the_wal_is_checkpointed_in_the_background(
    writer: GroupCommitWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written rows reach the database file itself (not only the WAL) without a commit doing it."""
    monkeypatch.setattr(sqlite_writer, "CHECKPOINT_EVERY", 5)
    for x in range(5):
        await writer.run(insert(x))  # one commit each
    await writer.wait_for_checkpoint()
    copy = tmp_path / "main-file-only.db"
    copy.write_bytes((tmp_path / "w.db").read_bytes())  # the WAL is left behind
    assert rows(copy) == [0, 1, 2, 3, 4]
    writer.close()


async def test_commits_never_checkpoint_on_the_loop(writer: GroupCommitWriter) -> None:
    assert writer.connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    writer.close()
