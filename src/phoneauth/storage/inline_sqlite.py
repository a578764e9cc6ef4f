"""SQLite for the async engine, called on the event loop itself instead of a helper thread.

aiosqlite runs every call (cursor, execute, fetch, close, commit) in its own thread and wakes
the event loop for each answer; a send-code request made about forty such round trips, which cost
more CPU than the statements themselves (`make bench`: ~4 ms per request, mostly thread
hand-offs and lock waits). A statement on a local SQLite file in WAL mode takes microseconds, so
this adapter runs it inline and hands SQLAlchemy's aiosqlite dialect an already-finished
awaitable.

A statement must never wait inside SQLite for a lock, though: the loop would stop, and with it
the transaction holding the lock (SQLAlchemy commits in a task of its own, after a turn of the
loop). So the connections run with `busy_timeout=0`, and a statement that finds the database
locked is retried here after an asynchronous sleep, for up to `BUSY_TIMEOUT_S`, then fails with
SQLite's own "database is locked" (answered as 503 `server.busy`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
BUSY_TIMEOUT_S = 5.0
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED, extended codes too)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return "database is locked" in str(error)
    return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)


async def retry_while_busy(call: Callable[[], T]) -> T:
    """`call()`, again after growing asynchronous sleeps while the database is locked."""
    deadline: float | None = None
    delay = 0.0005
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            now = time.monotonic()
            deadline = now + BUSY_TIMEOUT_S if deadline is None else deadline
            if now >= deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)


class _FinishedTransactionQueue:
    """Stands in for aiosqlite's work queue, which the dialect's isolation-level setter uses."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(error)


class InlineCursor:
    """aiosqlite's cursor interface over a `sqlite3.Cursor`, run in the calling thread."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        await retry_while_busy(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        rows = list(parameters)  # a retry needs them again
        await retry_while_busy(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """aiosqlite's connection interface over a `sqlite3.Connection`, run in the calling thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # the dialect checks it
        self._tx = _FinishedTransactionQueue()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        await retry_while_busy(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """What the dialect calls to terminate a connection: nothing runs elsewhere to stop."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, name: str, num_params: int, func: Any, **kw: Any) -> None:
        self._conn.create_function(name, num_params, func, **kw)

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)


def inline_creator(path: str) -> Callable[[], Any]:
    """`create_async_engine(..., async_creator=...)`: a new inline connection to `path`."""

    async def connect() -> InlineConnection:
        # check_same_thread=False: the pool may hand the connection to another event loop's
        # thread (tests run several apps); only one uses it at a time.
        return InlineConnection(sqlite3.connect(path, check_same_thread=False))

    return connect
