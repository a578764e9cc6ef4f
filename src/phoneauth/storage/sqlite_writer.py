"""Group commit for SQLite: the hot writes of many requests share one transaction and one commit.

A commit is most of the cost of a small SQLite write (about three times the statements of a
send-code request; `make bench`). Every write handed to `GroupCommitWriter.run` in one turn of
the event loop runs at the end of that turn, followed by a single COMMIT (should one write fail,
the batch is rolled back and run again with a savepoint per write, so the failure leaves the
others alone); each caller resumes only after the commit,
so an answer is never given for a write that is not in the database.

The batch runs synchronously, on a connection of its own, with no await inside the transaction,
so it never holds the write lock while others run. When another connection holds it (the
engine's, between a statement and its commit; or another process), the batch waits without
blocking the loop: it is tried again a moment later, for up to `BUSY_TIMEOUT_S`, and new writes
join it meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from phoneauth.storage.inline_sqlite import BUSY_TIMEOUT_S, is_busy

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], Any]


CHECKPOINT_EVERY = 200  # commits of the writer between two background checkpoints


def connect_sqlite(path: str) -> sqlite3.Connection:
    """A connection with the engine's pragmas (WAL, synchronous=NORMAL, no waiting in SQLite)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=0")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


class GroupCommitWriter:
    """Runs short synchronous write functions; one transaction and one commit per loop turn."""

    def __init__(self, path: str) -> None:
        self.connection = connect_sqlite(path)
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._closed = False
        self._busy_since: float | None = None
        self._busy_delay = 0.0005
        self._token: int | None = None
        # SQLite would checkpoint inside a COMMIT (copy the WAL into the database, fsync): 20 ms
        # of stopped loop every few hundred commits (`make bench`, p99). This connection never
        # does; a passive checkpoint runs in a worker thread instead (it takes no write lock).
        self.connection.execute("PRAGMA wal_autocheckpoint=0")
        self._path = path
        self._commits = 0
        self._checkpointing: asyncio.Future[None] | None = None

    async def run(self, write: Callable[[sqlite3.Connection], T]) -> T:
        """Run `write(connection)` in the next group transaction; its result once committed."""
        if self._closed:
            raise RuntimeError("the SQLite writer is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((write, future))
        return await future

    def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read now, outside any transaction: it sees every committed write."""
        return query(self.connection)

    def change_token(self) -> int:
        """`data_version`, read once per turn of the event loop (three lookups per request
        read it; a change committed elsewhere meanwhile is seen from the next turn on)."""
        if self._token is None:
            self._token = self.data_version()
            asyncio.get_running_loop().call_soon(self.forget_token)
        return self._token

    def forget_token(self) -> None:
        """Read `data_version` again next time (called after this process's engine commits)."""
        self._token = None

    def data_version(self) -> int:
        """Changes whenever another connection (this process's engine, or another process)
        commits; this writer's own commits do not change it."""
        row = self.connection.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def _begin(self) -> bool:
        """BEGIN IMMEDIATE; False (and a retry scheduled) while another connection writes."""
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            now = time.monotonic()
            self._busy_since = now if self._busy_since is None else self._busy_since
            if not is_busy(error) or now - self._busy_since >= BUSY_TIMEOUT_S or self._closed:
                self._fail_pending(error)
                return False
            asyncio.get_running_loop().call_later(self._busy_delay, self._flush)
            self._busy_delay = min(self._busy_delay * 2, 0.05)
            return False
        self._busy_since, self._busy_delay = None, 0.0005
        return True

    def _fail_pending(self, error: BaseException) -> None:
        batch, self._pending = self._pending, []
        self._busy_since, self._busy_delay = None, 0.0005
        for _write, future in batch:
            if not future.done():
                future.set_exception(error)

    def _flush(self) -> None:
        if not self._pending or not self._begin():
            return
        batch, self._pending = self._pending, []
        batch = [(write, future) for write, future in batch if not future.cancelled()]
        db = self.connection
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]
        try:
            try:
                outcomes = [(future, write(db), None) for write, future in batch]
            except Exception:
                # Rare: start over, each write in a savepoint of its own.
                db.execute("ROLLBACK")
                db.execute("BEGIN IMMEDIATE")
                outcomes = [self._isolated(write, future) for write, future in batch]
            db.execute("COMMIT")
            self._commits += 1
            if self._commits >= CHECKPOINT_EVERY:
                self._start_checkpoint()
        except Exception as error:
            # The transaction itself failed (locked by another process, disk full...): nothing
            # of the batch is in the database, and every caller hears why.
            if db.in_transaction:
                db.execute("ROLLBACK")
            for _write, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, result, failure in outcomes:
            if future.done():
                continue
            if failure is None:
                future.set_result(result)
            else:
                future.set_exception(failure)

    def _isolated(
        self, write: Write, future: asyncio.Future[Any]
    ) -> tuple[asyncio.Future[Any], Any, BaseException | None]:
        db = self.connection
        db.execute("SAVEPOINT one_write")
        try:
            result = write(db)
        except Exception as error:
            db.execute("ROLLBACK TO one_write")
            db.execute("RELEASE one_write")
            return future, None, error
        db.execute("RELEASE one_write")
        return future, result, None

    def _start_checkpoint(self) -> None:
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._commits = 0
        loop = asyncio.get_running_loop()
        self._checkpointing = loop.run_in_executor(None, checkpoint, self._path)

    async def wait_for_checkpoint(self) -> None:
        """Until the checkpoint running in the background (if any) is done."""
        if self._checkpointing is not None:
            await self._checkpointing

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._flush()  # writes still waiting land now (or fail, if the file stays locked)
            self.connection.close()


def checkpoint(path: str) -> None:
    """Copy what the WAL holds into the database file without blocking writers (PASSIVE)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA busy_timeout=1000")  # a worker thread may wait
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()
