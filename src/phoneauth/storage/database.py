"""The database, reached in short units of work that never hold a connection across foreign awaits.

Every store states a unit as a plain function of an ORM `Session` and hands it to `read` or
`write`. The same function runs on both databases:

- **SQLite** (the default): one synchronous connection over the standard `sqlite3` driver,
  opened once per process; the unit runs at once on the event loop, from `BEGIN` to `COMMIT`,
  with no await in between, so no other request ever waits for a connection held by one that is
  waiting for something else (the old design queued every request behind one pooled connection
  that ORM sessions held across awaits), and one connection is all a process needs. A
  `Statement` unit (one statement, atomic by itself) runs in SQLite's autocommit mode, without
  `BEGIN` and `COMMIT`: on the paths every sign-in takes those cost more than the statement.
  SQLite never waits inside for a lock (`busy_timeout=0`): when another process holds the write
  lock, the unit is rolled back and tried again after an asynchronous sleep, for up to
  `BUSY_TIMEOUT_S`, then answered `503 server.busy`.
- **PostgreSQL**: an asyncpg pool; the unit runs through SQLAlchemy's public `run_sync` on one
  pooled connection, a `Prepared` statement straight on an asyncpg connection that stays checked
  out between such statements (`held_connections`). Reads
  run in autocommit (no BEGIN/COMMIT round trips: a read-committed transaction gives no more
  consistency than that); writes run in one transaction. No pre-ping on checkout: a dead
  connection is found by the statement itself, the pool is refreshed and the unit answered
  `503 server.unavailable` (see `outage`).

`engine` stays an `AsyncEngine` on both databases for migrations, the schema check and tests
(aiosqlite on SQLite: those are rare and may wait in a thread).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Generic, Protocol, TypeGuard, TypeVar, cast

from sqlalchemy import Connection, CursorResult, Engine, Executable, Integer, Row, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from phoneauth.errors import DatabaseBusyError, DatabaseUnavailableError, UnstorableTextError
from phoneauth.files import create_private_file, private_folder
from phoneauth.storage.held_connections import HeldConnections
from phoneauth.storage.loop_turns import LoopTurnBatches, Waiting, answer, fail, settle
from phoneauth.storage.outage import OutageLog
from phoneauth.storage.prepared import DriverResult, Prepared, run_many_on_asyncpg, run_on_asyncpg
from phoneauth.storage.text_guard import guard_engine, json_text

log = logging.getLogger("phoneauth.database")

T = TypeVar("T")
Unit = Callable[[Session], T]

BUSY_TIMEOUT_S = 5.0
POOL_SIZE = 20  # PostgreSQL connections per worker process
HELD_IDLE = 8  # of them, kept idle between `Prepared` statements (`held_connections`)
CHECKPOINT_EVERY = 500  # SQLite write commits between two background WAL checkpoints
WAL_SIZE_LIMIT = 16 * 1024 * 1024  # bytes of WAL past which it is made to start over
RESTART_WAIT_MS = 50  # longest a RESTART checkpoint (and the writes it holds back) waits
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def is_busy(error: BaseException) -> bool:
    """SQLite's "database is locked" (SQLITE_BUSY or SQLITE_LOCKED, extended codes too)."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return "database is locked" in str(error)
    return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and the writer proceed together. synchronous=NORMAL, SQLite's advice for
    # WAL: a commit does not wait for an fsync; a power cut may lose the last commits, never the
    # database, and an application crash loses nothing. The WAL is copied back by a background
    # checkpoint, never inside a COMMIT on the event loop.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    # A WAL that started over keeps its file's size; past the limit, the writer cuts it back.
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def _sqlite_pragmas_waiting(dbapi_connection: Any, record: Any) -> None:
    """The same, for aiosqlite's connections, whose calls run in a thread and may wait."""
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def _in_transaction(connection: Connection, unit: Unit[T], begin: str | None, write: bool) -> T:
    """Run `unit` on `connection`; a write is committed. The caller rolls back on an error."""
    try:
        return _run_unit(connection, unit, begin, write)
    except StatementError as error:
        # SQLAlchemy wraps what a value's conversion raised (`text_guard.json_text`).
        if isinstance(error.orig, UnstorableTextError):
            raise error.orig from None
        raise


def _run_unit(connection: Connection, unit: Unit[T], begin: str | None, write: bool) -> T:
    result: T
    if isinstance(unit, Statement):
        # One statement, atomic by itself: on SQLite it runs in the driver's autocommit mode
        # (no BEGIN), and the commit only closes SQLAlchemy's bookkeeping of the connection.
        result = cast(T, unit.on_connection(connection))
        connection.commit()
        return result
    if begin is not None:
        connection.exec_driver_sql(begin)
    with Session(bind=connection, expire_on_commit=False) as session:
        result = unit(session)
        if write:
            # Commits what the session began (PostgreSQL); on SQLite, where the unit joined the
            # transaction that BEGIN started, only flushes: the connection commits below.
            session.commit()
    if write:
        connection.commit()
    else:
        connection.rollback()  # a read ends its snapshot; nothing to keep
    return result


class Rows(Protocol):
    """What a `Statement`'s result reader may use: SQLAlchemy's `CursorResult` has it, and so
    has the driver's answer to a `Prepared` statement (`DriverResult`)."""

    @property
    def rowcount(self) -> int: ...

    def first(self) -> Any: ...

    def scalar_one(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Statement(Generic[T]):
    """A unit of one Core statement, run on the connection itself: an ORM session costs more
    than the statement on the paths every sign-in takes. `result` reads the cursor's answer
    (plain rows, not ORM objects). A `Prepared` statement run alone on SQLite goes straight to
    the driver (`phoneauth.storage.prepared`); within a larger unit, through SQLAlchemy."""

    __slots__ = ("parameters", "result", "statement")

    def __init__(
        self,
        statement: Executable | Prepared,
        parameters: dict[str, Any] | None,
        result: Callable[[Rows], T],
    ) -> None:
        self.statement = statement
        self.parameters = parameters
        self.result = result

    def on_connection(self, connection: Connection) -> T:
        statement = self.statement
        if isinstance(statement, Prepared):
            statement = statement.statement
        return self.result(cast(CursorResult[Any], connection.execute(statement, self.parameters)))

    def on_sqlite_driver(self, driver: sqlite3.Connection, dialect: Dialect) -> T:
        """A `Prepared` statement in SQLite's autocommit mode, on the driver's connection."""
        assert isinstance(self.statement, Prepared)  # noqa: S101 - checked by the caller
        parameters = self.parameters or {}
        form = self.statement.form(dialect, parameters)
        try:
            cursor = driver.execute(form.sql, form.arguments(parameters))
            rows = form.rows(cursor.fetchall()) if form.row is not None else []
            answer = DriverResult(rows, cursor.rowcount)
        except sqlite3.Error as error:
            # SQLAlchemy's exception classes, as from `execute`: callers catch those.
            raise DBAPIError.instance(
                form.sql, parameters, error, sqlite3.Error, hide_parameters=True
            ) from error
        return self.result(answer)

    async def on_asyncpg(self, driver: Any, dialect: Dialect) -> T:
        """A `Prepared` statement on asyncpg's connection, in autocommit."""
        assert isinstance(self.statement, Prepared)  # noqa: S101 - checked by the caller
        parameters = self.parameters or {}
        form = self.statement.form(dialect, parameters)
        return self.result(await run_on_asyncpg(form, driver, parameters))

    def __call__(self, session: Session) -> T:
        return self.on_connection(session.connection())


class Batch(Statement[int]):
    """One `Prepared` INSERT (or other statement without result rows) for each of `rows`, all
    or none, as one unit: on SQLite one `BEGIN IMMEDIATE` ... `COMMIT` around the driver's
    `executemany`, on PostgreSQL asyncpg's `executemany` (one round trip, atomic). Its result
    is the number of rows. Every row names the same columns."""

    __slots__ = ("rows",)

    def __init__(self, statement: Prepared, rows: Sequence[dict[str, Any]]) -> None:
        if not rows or any(row.keys() != rows[0].keys() for row in rows):
            raise ValueError("a batch holds one or more rows, each with the same columns")
        super().__init__(statement, rows[0], _rowcount)
        self.rows = rows

    def on_connection(self, connection: Connection) -> int:
        assert isinstance(self.statement, Prepared)  # noqa: S101 - set by the constructor
        connection.execute(self.statement.statement, list(self.rows))
        return len(self.rows)

    def on_sqlite_driver(self, driver: sqlite3.Connection, dialect: Dialect) -> int:
        assert isinstance(self.statement, Prepared)  # noqa: S101 - set by the constructor
        form = self.statement.form(dialect, self.rows[0])
        arguments = [form.arguments(row) for row in self.rows]
        try:
            driver.execute("BEGIN IMMEDIATE")
            try:
                driver.executemany(form.sql, arguments)
                driver.execute("COMMIT")
            except BaseException:
                if driver.in_transaction:  # SQLite ends it itself after some errors
                    driver.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise DBAPIError.instance(
                form.sql, self.rows[0], error, sqlite3.Error, hide_parameters=True
            ) from error
        return len(self.rows)

    async def on_asyncpg(self, driver: Any, dialect: Dialect) -> int:
        assert isinstance(self.statement, Prepared)  # noqa: S101 - set by the constructor
        form = self.statement.form(dialect, self.rows[0])
        return (await run_many_on_asyncpg(form, driver, self.rows)).rowcount


class RequestScope:
    """What one request remembers of each database: the change counter it read."""

    __slots__ = ("versions",)

    def __init__(self) -> None:
        self.versions: dict[Database, int] = {}


_request: ContextVar[RequestScope | None] = ContextVar("phoneauth_request", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """Around one request: lookups within it read the change counter once (on PostgreSQL a
    round trip saved per cached lookup after the first)."""
    token = _request.set(RequestScope())
    try:
        yield
    finally:
        _request.reset(token)


class Database:
    """One per process and database URL; see the module docstring."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.outages = OutageLog()
        self._sqlite: Engine | None = None
        self._sqlite_connection: Connection | None = None
        self._sqlite_path: str | None = None
        self._commits = 0
        self._checkpointing: asyncio.Task[None] | None = None
        self._writes_resumed: asyncio.Event | None = None  # writes wait for it (`_checkpoint`)
        self._version: int | None = None
        self._reading: asyncio.Task[int] | None = None
        # One-statement SQLite writes, committed together per loop turn (`_commit_group`).
        self._group_commits: LoopTurnBatches[Statement[Any], Any] = LoopTurnBatches(
            self._commit_group
        )
        if self.is_sqlite:
            path = parsed.database or ":memory:"
            if path == ":memory:":
                raise ValueError("phoneauth needs an SQLite file, not an in-memory database")
            # It holds phone numbers and password hashes: the folder 0700, the file 0600 before
            # SQLite opens it, and SQLite gives the -wal and -shm files it makes the same mode.
            private_folder(Path(path).parent)
            create_private_file(Path(path))
            self._sqlite_path = path
            self._sqlite = create_sync_engine(
                parsed.set(drivername="sqlite+pysqlite"),
                # The driver's own transaction handling is off: units say BEGIN themselves.
                connect_args={"check_same_thread": False, "isolation_level": None},
                pool_size=1,
                max_overflow=0,
                hide_parameters=True,
                json_serializer=json_text,
            )
            event.listen(self._sqlite, "connect", _sqlite_pragmas)
            guard_engine(self._sqlite)
            # Migrations, the schema check and tests: aiosqlite, whose calls may wait in a thread.
            self.engine = create_async_engine(
                parsed.set(drivername="sqlite+aiosqlite"),
                hide_parameters=True,
                json_serializer=json_text,
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas_waiting)
        else:
            connect_args = {"server_settings": {"search_path": schema}} if schema else {}
            # Twenty connections kept, none made beyond them: a unit holds one for a round
            # trip or a short transaction, so more requests than that wait their turn in the
            # pool. Overflow connections (the old `max_overflow=10`) were closed as they came
            # back and opened anew under load: a new connection per request at 32 clients
            # (`make bench`, a tenth of the server's time in asyncpg's connect).
            self.engine = create_async_engine(
                url,
                pool_size=POOL_SIZE,
                max_overflow=0,
                connect_args=connect_args,
                hide_parameters=True,
                json_serializer=json_text,
            )
            event.listen(self.engine.sync_engine, "handle_error", _mark_disconnect)
        guard_engine(self.engine.sync_engine)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._held = HeldConnections(self.engine, HELD_IDLE)

    async def read(self, unit: Unit[T]) -> T:
        """`unit` in a read-only unit of work; sees everything committed before it started."""
        if self._sqlite is not None:
            return await self._run_sqlite(unit, "BEGIN", write=False)
        return await self._run_async(self._autocommit, unit, write=False)

    async def write(self, unit: Unit[T], *, single_statement: bool = False) -> T:
        """`unit` in one transaction: all of it is committed, or nothing.

        `single_statement`: the unit makes one statement, atomic by itself, so PostgreSQL runs
        it without BEGIN and COMMIT (one round trip instead of three)."""
        if moves_no_version(unit):
            return await self._write(unit, single_statement)
        self._version = None  # this process's own changes count from now on
        scope = _request.get()
        if scope is not None:
            scope.versions.pop(self, None)  # and this request's, within the request
        try:
            return await self._write(unit, single_statement)
        finally:
            self._version = None

    async def _write(self, unit: Unit[T], single_statement: bool) -> T:
        if self._sqlite is not None:
            resumed = self._writes_resumed
            if resumed is not None:  # a checkpoint is letting the WAL start over
                await resumed.wait()
            if _groups(unit):
                return cast(T, await self._group_commits.add(unit))
            try:
                return await self._run_sqlite(unit, "BEGIN IMMEDIATE", write=True)
            finally:
                self._after_sqlite_write()
        return await self._run_async(
            self._autocommit if single_statement else self.engine, unit, write=True
        )

    async def change_version(self) -> int:
        """The counter that triggers move on every change to the cached tables (see migration
        0005). Read once per request (`request_scope`; again after the request's own writes):
        a request sees the configuration as it was when it first looked, as if it had run
        before any change committed meanwhile. Outside a request, on PostgreSQL, read at most
        once per turn of the event loop (and again after each own write); on SQLite, a few
        microseconds, at every lookup."""
        scope = _request.get()
        if scope is None:
            return await self._read_change_version()
        version = scope.versions.get(self)
        if version is None:
            version = scope.versions[self] = await self._read_change_version()
        return version

    async def _read_change_version(self) -> int:
        if self._sqlite is not None:
            return self._sqlite_change_version()
        if self._version is not None:
            return self._version
        # Callers in the same turn of the loop share one read that is not yet sent: it starts
        # after all of them did, so it sees every change committed before any of them began.
        reading, loop = self._reading, asyncio.get_running_loop()
        if reading is None or reading.done() or reading.get_loop() is not loop:
            reading = self._reading = loop.create_task(self._fetch_version())
            reading.add_done_callback(_retrieved)
        return await asyncio.shield(reading)  # a cancelled caller leaves it to the others

    async def _fetch_version(self) -> int:
        self._reading = None  # sent from now on: a later caller needs a reading of its own
        version = await self.read(Statement(_CHANGE_VERSION_QUERY, None, _version_of))
        if self._version is None:
            self._version = version
            asyncio.get_running_loop().call_soon(self._forget_version)
        return version

    def _forget_version(self) -> None:
        self._version = None

    def _sqlite_change_version(self) -> int:
        # On the process's own connection, through the driver: between units it is outside any
        # transaction, so it sees every commit, and its page cache stays warm after its own
        # writes (a second connection re-read the changed pages after each of them).
        row = self._sqlite_driver_connection().execute(_CHANGE_VERSION).fetchone()
        return int(row[0])

    def _sqlite_process_connection(self) -> Connection:
        assert self._sqlite is not None  # noqa: S101 - only called on SQLite
        if self._sqlite_connection is None:
            self._sqlite_connection = self._sqlite.connect()
        return self._sqlite_connection

    def _sqlite_driver_connection(self) -> sqlite3.Connection:
        driver = self._sqlite_process_connection().connection.driver_connection
        return cast(sqlite3.Connection, driver)

    async def _run_sqlite(self, unit: Unit[T], begin: str, *, write: bool) -> T:
        assert self._sqlite is not None  # noqa: S101 - only called on SQLite
        busy = _BusyWait()
        while True:
            connection = self._sqlite_process_connection()
            try:
                try:
                    if isinstance(unit, Statement) and isinstance(unit.statement, Prepared):
                        driver = cast(sqlite3.Connection, connection.connection.driver_connection)
                        return cast(T, unit.on_sqlite_driver(driver, connection.dialect))
                    return _in_transaction(connection, unit, begin, write)
                except BaseException:
                    # The unit is undone whole; the connection is ready for the next one.
                    connection.rollback()
                    raise
            except OperationalError as error:
                if error.orig is None or not is_busy(error.orig):
                    raise
                await busy.wait()

    async def _run_async(self, engine: AsyncEngine, unit: Unit[T], *, write: bool) -> T:
        if isinstance(unit, Statement) and isinstance(unit.statement, Prepared):
            return cast(T, await self._run_prepared(unit))
        started = time.monotonic()
        try:
            # Not `async with`: its exit closes in a task of its own, a loop turn later.
            connection = await engine.connect()
        except (OSError, DBAPIError, TimeoutError) as error:
            self._lost(error)
            raise DatabaseUnavailableError() from None
        try:
            result = await connection.run_sync(_in_transaction, unit, None, write)
        except (DBAPIError, OSError) as error:
            if not _is_disconnect(error):
                raise
            self._lost(error)
            raise DatabaseUnavailableError() from None
        finally:
            await connection.close()
        self.outages.succeeded(started)
        return result

    async def _run_prepared(self, unit: Statement[T]) -> T:
        """A `Prepared` statement on an asyncpg connection held between statements
        (`held_connections`), without an SQLAlchemy `Connection` around it: checking one out
        of the pool and in again cost a fifth of an Experience send-code, and the checkout
        itself more than the statement. The statement runs outside any transaction, so the
        connection is kept with nothing to reset."""
        started = time.monotonic()
        try:
            raw = await self._held.take()
        except Exception as error:
            if not isinstance(error, OSError | DBAPIError | TimeoutError) and not _is_disconnect(
                error
            ):
                raise
            self._lost(error)
            raise DatabaseUnavailableError() from None
        try:
            result = await unit.on_asyncpg(raw.driver_connection, self.engine.dialect)
        except Exception as error:
            if not _is_disconnect(error):
                self._held.give_back(raw)  # the statement failed, not the connection
                raise
            # What SQLAlchemy does for the errors it sees itself (`_mark_disconnect`): this
            # connection, and every one pooled before it, are of no further use.
            raw.invalidate()
            await self.engine.dispose(close=False)
            self._lost(error)
            raise DatabaseUnavailableError() from None
        except BaseException:
            raw.invalidate()  # cancelled mid-statement: the connection's state is unknown
            raise
        self._held.give_back(raw)
        self.outages.succeeded(started)
        return result

    def _lost(self, error: BaseException) -> None:
        """The database could not be reached: reported once per outage (`outage`), and no
        held connection is used again."""
        self._held.invalidate_idle()
        self.outages.failed(error)

    async def _commit_group(self, group: list[_Waiting]) -> None:
        """The writes of one loop turn in one transaction; each caller answered after COMMIT."""
        busy = _BusyWait()
        try:
            while True:
                try:
                    results = self._run_group(group)
                    break
                except OperationalError as error:
                    if error.orig is None or not is_busy(error.orig):
                        raise
                    await busy.wait()  # another process holds the write lock: try again
                except _StatementFailedError:
                    # A statement failed on its own (a constraint, a bad value): the group was
                    # rolled back, and each statement runs alone, so only its caller gets it.
                    await self._run_each(group)
                    return
        except Exception as error:  # busy too long, or the file itself failed: every caller
            for _, done in group:
                fail(done, error)
            return
        for (_, done), result in zip(group, results, strict=True):
            answer(done, result)

    def _run_group(self, group: list[_Waiting]) -> list[Any]:
        """The group's statements in one transaction, from BEGIN to COMMIT without an await."""
        dialect = self._sqlite_process_connection().dialect
        driver = self._sqlite_driver_connection()
        results = []
        try:
            driver.execute("BEGIN IMMEDIATE")
            try:
                for unit, _ in group:
                    try:
                        results.append(unit.on_sqlite_driver(driver, dialect))
                    except DBAPIError as error:
                        if error.orig is not None and is_busy(error.orig):
                            raise
                        raise _StatementFailedError() from error
                    except Exception as error:  # its result could not be read
                        raise _StatementFailedError() from error
                driver.execute("COMMIT")
            except BaseException:
                if driver.in_transaction:  # SQLite ends it itself after some errors
                    driver.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:  # BEGIN or COMMIT: as SQLAlchemy would raise it
            raise DBAPIError.instance(
                "COMMIT", None, error, sqlite3.Error, hide_parameters=True
            ) from error
        self._after_sqlite_write()
        return results

    async def _run_each(self, group: list[_Waiting]) -> None:
        for unit, done in group:
            try:
                await settle(done, self._run_sqlite(unit, "BEGIN IMMEDIATE", write=True))
            finally:
                self._after_sqlite_write()

    def _after_sqlite_write(self) -> None:
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY:
            return
        loop, running = asyncio.get_running_loop(), self._checkpointing
        if running is None or running.done() or running.get_loop() is not loop:
            self._commits = 0
            self._writes_resumed = None  # a gate left by an event loop that was closed
            self._checkpointing = loop.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        """`checkpoint` in a worker thread, the loop's writes held back for its second step
        only: it needs the write lock, which they would otherwise hold nearly all the time."""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, checkpoint, self._sqlite_path, "PASSIVE")
            if not self._wal_too_large():
                return  # writes are held back only once in a while, not every 500 commits
            self._writes_resumed = resumed = asyncio.Event()
            try:
                await loop.run_in_executor(None, checkpoint, self._sqlite_path, "RESTART")
            finally:
                self._writes_resumed = None
                resumed.set()
        except sqlite3.Error as error:  # the next one tries again; SQLite's text names no data
            log.warning("WAL checkpoint failed: %s", error)

    def _wal_too_large(self) -> bool:
        try:
            return Path(f"{self._sqlite_path}-wal").stat().st_size > WAL_SIZE_LIMIT
        except OSError:
            return False  # no WAL file: nothing to start over

    async def wait_for_checkpoint(self) -> None:
        """Until the background checkpoint (if one runs in this event loop) is done."""
        running = self._checkpointing
        if running is not None and running.get_loop() is asyncio.get_running_loop():
            await running

    async def ping(self) -> None:
        """One round trip; raises `DatabaseUnavailableError` when the database is down."""
        await self.read(lambda session: session.execute(text("SELECT 1")).scalar())

    async def dispose(self) -> None:
        running = self._checkpointing
        if running is not None and running.get_loop() is asyncio.get_running_loop():
            await asyncio.gather(running, return_exceptions=True)
        if self._sqlite_connection is not None:
            self._sqlite_connection.close()
            self._sqlite_connection = None
        if self._sqlite is not None:
            self._sqlite.dispose()
        else:
            self._held.release_idle()
        await self.engine.dispose()


_Waiting = Waiting[Statement[Any], Any]


def _groups(unit: object) -> TypeGuard[Statement[Any]]:
    """Whether a write joins the group commit: one `Prepared` statement (a `Batch` makes its
    own transaction, and a unit of several statements is a transaction of its own)."""
    return (
        isinstance(unit, Statement)
        and not isinstance(unit, Batch)
        and isinstance(unit.statement, Prepared)
    )


class _StatementFailedError(Exception):
    """A statement of a group failed for a reason of its own; the group was rolled back."""


class _BusyWait:
    """The waits between tries while another process holds SQLite's write lock: growing from
    0.5 ms to 50 ms, then `DatabaseBusyError` once `BUSY_TIMEOUT_S` has passed."""

    __slots__ = ("deadline", "delay")

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.delay = 0.0005

    async def wait(self) -> None:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + BUSY_TIMEOUT_S
        if now >= self.deadline:
            raise DatabaseBusyError() from None
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, 0.05)


def changed_rows(
    statement: UpdateBase | Prepared, parameters: dict[str, Any] | None = None
) -> Statement[int]:
    """A unit running one INSERT, UPDATE or DELETE; its result is how many rows it changed."""
    return Statement(statement, parameters, _rowcount)


def _rowcount(result: Rows) -> int:
    return int(result.rowcount)


def first_row(
    query: Executable | Prepared, parameters: dict[str, Any], convert: Callable[[Row[Any]], T]
) -> Statement[T | None]:
    """A unit running one query; `convert` of its first row, None when there is none."""

    def first(result: Rows) -> T | None:
        row = result.first()
        return None if row is None else convert(row)

    return Statement(query, parameters, first)


_CHANGE_VERSION = "SELECT version FROM change_versions WHERE id = 1"

# The tables whose triggers move the change counter (migrations 0005, 0012, 0013; a test
# compares this with the triggers of a migrated database). None of them has a foreign key to a
# table outside the set, so no cascade from elsewhere reaches them.
WATCHED_TABLES = frozenset(
    {
        "tenants",
        "admin_keys",
        "connectors",
        "sign_in_experiences",
        "sms_standby_connectors",
        "sms_routing",
        "sms_country_suspensions",
    }
)


def moves_no_version(unit: object) -> bool:
    """Whether `unit` is one statement on a table no trigger watches: it cannot move the change
    counter, so the counter read before it still holds after it. A code, a message-log row or
    an interaction written on every sign-in then costs no second read of the counter (on
    PostgreSQL a round trip each). Any other unit may change cached tables."""
    if not isinstance(unit, Statement):
        return False
    statement = unit.statement.statement if isinstance(unit.statement, Prepared) else unit.statement
    if not isinstance(statement, UpdateBase):
        return False  # a SELECT ... FOR UPDATE, text: not known, so assumed to
    table = getattr(statement.table, "name", None)
    return table is not None and table not in WATCHED_TABLES


_CHANGE_VERSION_QUERY = Prepared(text(_CHANGE_VERSION).columns(version=Integer))


def _retrieved(task: asyncio.Task[int]) -> None:
    """Its error is its callers'; if every one was cancelled, asyncio need not report it."""
    if not task.cancelled():
        task.exception()


def _version_of(result: Rows) -> int:
    return int(result.scalar_one())


# asyncpg's errors, raised on the client with no SQLSTATE, for a connection that is gone or
# whose protocol is out of step: "connection is closed", and "cannot switch to state 12;
# another operation (2) is in progress" when an idle pooled connection has received the
# server's FATAL shutdown message. The connection is of no further use either way.
_BROKEN_CONNECTION_ERRORS = frozenset({"InternalClientError", "ConnectionDoesNotExistError"})


def _is_disconnect(error: BaseException) -> bool:
    """The connection broke or could not be made, or the server is shutting down or starting
    (SQLSTATE classes 08 and 57P), as opposed to a bad statement. SQLAlchemy's error, or the
    driver's own (a `Prepared` statement)."""
    if not isinstance(error, DBAPIError):
        return _is_broken_connection(error)
    return error.connection_invalidated or _is_broken_connection(error.orig)


def _is_broken_connection(orig: BaseException | None) -> bool:
    """`orig` (the driver's error, as SQLAlchemy wraps it) says the connection is unusable."""
    # SQLAlchemy's adapter of the driver's error, and the driver's (asyncpg's) own under it.
    for error in (orig, orig.__cause__ if orig is not None else None):
        if error is None:
            continue
        if isinstance(error, OSError):
            return True
        state = str(getattr(error, "sqlstate", None) or getattr(error, "pgcode", "") or "")
        name = type(error).__name__
        if (
            state.startswith(("08", "57P"))
            or name in _BROKEN_CONNECTION_ERRORS
            or (name == "InterfaceError" and "connection is closed" in str(error))
        ):
            return True
    return False


def _mark_disconnect(context: ExceptionContext) -> None:
    """SQLAlchemy's `handle_error` hook: what `_is_broken_connection` recognises counts as a
    disconnect, so SQLAlchemy invalidates the connection and, with it, every connection the
    pool held before (they were made to the same server, which went away): the first request
    once the server is back gets a fresh connection instead of a stale pooled one. asyncpg's
    dialect only recognises a connection it already sees closed."""
    if not context.is_disconnect and _is_broken_connection(context.original_exception):
        context.is_disconnect = True


def checkpoint(path: str | None, mode: str = "PASSIVE") -> None:
    """Copy what the WAL holds into the database file: PASSIVE, without stopping writers.

    Under steady writes a PASSIVE checkpoint never reaches the end of the WAL, and only one
    that did lets the next writer start the WAL from its beginning: it grew without end (1.1 GB
    after 30,000 codes under `make bench`, its index mapped into the server's memory). So once
    the WAL file passes `WAL_SIZE_LIMIT`, a RESTART follows (`Database._checkpoint`): it copies
    the few frames written since, holding the write lock, and waits for readers to leave the
    WAL; the next write starts it over.
    """
    if path is None:
        return
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        # RESTART holds the write lock while it waits for readers to leave the WAL: another
        # process's long read (a backup) would hold every write back as long as it waits, so
        # it gives up soon and the next checkpoint tries again.
        wait_ms = RESTART_WAIT_MS if mode == "RESTART" else 1000
        connection.execute(f"PRAGMA busy_timeout={wait_ms}")  # a worker thread may wait
        connection.execute(f"PRAGMA wal_checkpoint({mode})")
    finally:
        connection.close()


def open_database(url: str, *, schema: str | None = None) -> Database:
    return Database(url, schema=schema)
