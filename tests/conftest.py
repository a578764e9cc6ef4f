"""Fixtures every test may use: a clean environment and real local servers for fault tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import tests.cheap_hashing  # noqa: F401 - first: before phoneauth hashes anything
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import column as sql_column
from sqlalchemy import delete, insert, literal, select, text, union_all
from sqlalchemy import table as sql_table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from phoneauth.settings import Settings
from phoneauth.storage.database import open_database
from phoneauth.storage.migrate import upgrade
from phoneauth.web.app import create_app
from phoneauth.wiring import Services

T = TypeVar("T")


def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PHONEAUTH_* setting of the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("PHONEAUTH_"):
            monkeypatch.delenv(key)


@pytest.fixture(autouse=True, name="clean_environ")
def clean_environ_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environ(monkeypatch)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def slow_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that waits 3 s before answering; yields its base URL."""

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# --- databases and the app -------------------------------------------------------------------

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class DatabaseUnderTest:
    """Where a test's tables live: an SQLite file, or a PostgreSQL schema."""

    name: str
    url: str
    schema: str | None = None


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Each database test runs twice: on a real SQLite file and on the real PostgreSQL server."""
    return str(request.param)


async def _postgresql_schema(prefix: str) -> str:
    """A new, empty schema on the test server."""
    schema = prefix + uuid.uuid4().hex[:16]
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, DBAPIError) as error:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required for this test: {error}")
    finally:
        await admin.dispose()
    return schema


async def _drop_postgresql_schema(schema: str) -> None:
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


async def _migrate(database: DatabaseUnderTest) -> None:
    migrated = open_database(database.url, schema=database.schema)
    try:
        await upgrade(migrated.engine)
    finally:
        await migrated.dispose()


@contextmanager
def database_for(kind: str, folder: Path) -> Iterator[DatabaseUnderTest]:
    """`test_database` for a fixture that outlives one test (module-scoped servers): an SQLite
    file in `folder`, or a fresh, migrated PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{folder / 'phoneauth.db'}")
        return
    schema = "t_" + uuid.uuid4().hex[:16]

    async def create() -> None:
        admin = create_async_engine(POSTGRES_URL)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        migrated = open_database(POSTGRES_URL, schema=schema)
        await upgrade(migrated.engine)
        await migrated.dispose()

    async def drop() -> None:
        admin = create_async_engine(POSTGRES_URL)
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()

    asyncio.run(create())
    try:
        yield DatabaseUnderTest("postgresql", POSTGRES_URL, schema)
    finally:
        asyncio.run(drop())


@pytest.fixture
async def test_database(database_kind: str, tmp_path: Path) -> AsyncIterator[DatabaseUnderTest]:
    """A database of the test's own: an SQLite file not yet created, or a fresh PostgreSQL
    schema migrated to the head (PostgreSQL is only migrated by `phoneauth migrate`). For tests
    of the schema and its migrations; tests that only need the tables use `migrated_database`."""
    if database_kind == "sqlite":
        yield DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'phoneauth.db'}")
        return
    schema = await _postgresql_schema("t_")
    database = DatabaseUnderTest("postgresql", POSTGRES_URL, schema)
    await _migrate(database)
    try:
        yield database
    finally:
        await _drop_postgresql_schema(schema)


def _in_a_loop_of_its_own(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to the end from any fixture, whether or not the test's event loop runs."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file the migrations made, once per test process; tests get copies of it."""
    path = tmp_path_factory.mktemp("migrated") / "phoneauth.db"
    _in_a_loop_of_its_own(_migrate(DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{path}")))
    # The engine is disposed, so SQLite folded its write-ahead log into the file: the file is
    # the whole database (and its mode, 0600 as the app creates it, goes with each copy).
    assert not path.with_name(path.name + "-wal").exists()
    return path


@dataclass(frozen=True)
class MigratedSchema:
    """A PostgreSQL schema the migrations made, its tables (but Alembic's own), and the rows the
    migrations wrote (the change counter's): what a test starts from again."""

    name: str
    tables: tuple[str, ...]
    seed_rows: dict[str, list[dict[str, Any]]]


async def _contents(schema: str) -> MigratedSchema:
    engine = create_async_engine(POSTGRES_URL)
    try:
        async with engine.connect() as connection:
            listed = await connection.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :schema AND table_type = 'BASE TABLE' "
                    "AND table_name <> 'alembic_version' ORDER BY table_name"
                ),
                {"schema": schema},
            )
            tables = tuple(listed.scalars())
            seeds: dict[str, list[dict[str, Any]]] = {}
            for table in tables:
                every = select(text("*")).select_from(sql_table(table, schema=schema))
                rows = [dict(row) for row in (await connection.execute(every)).mappings()]
                if rows:
                    seeds[table] = rows
    finally:
        await engine.dispose()
    return MigratedSchema(schema, tables, seeds)


@pytest.fixture(scope="session")
def migrated_postgresql_schema() -> Iterator[MigratedSchema]:
    """A PostgreSQL schema the migrations made, once per test process; each test empties it."""

    async def make() -> MigratedSchema:
        schema = await _postgresql_schema("m_")
        await _migrate(DatabaseUnderTest("postgresql", POSTGRES_URL, schema))
        return await _contents(schema)

    migrated = _in_a_loop_of_its_own(make())
    try:
        yield migrated
    finally:
        _in_a_loop_of_its_own(_drop_postgresql_schema(migrated.name))


async def _start_again(schema: MigratedSchema) -> None:
    """Back to what the migrations left: the previous test's rows go, the seed rows return.

    Only the tables that hold rows are emptied, by DELETE with the foreign-key and change-counter
    triggers off (`session_replication_role`; the seed rows are written back as they were):
    TRUNCATE of every table cost ~0.15 s per test, most of a PostgreSQL test's setup, where a
    test leaves rows in a few tables. No table has a sequence to restart."""
    engine = create_async_engine(POSTGRES_URL)
    try:
        async with engine.begin() as connection:
            # A connection a previous test left in a transaction would block this: fail instead.
            await connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
            probe = union_all(
                *(
                    select(literal(table))
                    .select_from(sql_table(table, schema=schema.name))
                    .limit(1)
                    for table in schema.tables
                )
            )
            holding = set((await connection.execute(probe)).scalars())
            for table in holding | schema.seed_rows.keys():
                await connection.execute(delete(sql_table(table, schema=schema.name)))
            for table, rows in schema.seed_rows.items():
                columns = [sql_column(name) for name in rows[0]]
                seeded = sql_table(table, *columns, schema=schema.name)
                await connection.execute(insert(seeded), rows)
    except (OSError, DBAPIError) as error:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required for this test: {error}")
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Shared:
    """What the tests on one kind of database share in a test process: where the tables are
    (emptied for each test, `migrated_database`), the settings, and one app object (each test
    runs its own lifespan on it; see `module_app`)."""

    database: DatabaseUnderTest
    settings: Settings
    app: FastAPI


def _shared(database: DatabaseUnderTest, folder: Path) -> Shared:
    with pytest.MonkeyPatch.context() as environment:
        clean_environ(environment)  # made before the tests' own clean environment
        settings = Settings(
            data_dir=folder / "data",
            database_url=database.url,
            database_schema=database.schema,
            secret_key=SecretStr("test-secret-key"),
            connector_allow_private_hosts=True,  # the fake providers listen on 127.0.0.1
        )
    return Shared(database, settings, create_app(settings))


@pytest.fixture(scope="session")
def sqlite_shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    folder = tmp_path_factory.mktemp("sqlite")
    return _shared(
        DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{folder / 'phoneauth.db'}"), folder
    )


@pytest.fixture(scope="session")
def postgresql_shared(
    migrated_postgresql_schema: MigratedSchema, tmp_path_factory: pytest.TempPathFactory
) -> Shared:
    schema = migrated_postgresql_schema.name
    database = DatabaseUnderTest("postgresql", POSTGRES_URL, schema)
    return _shared(database, tmp_path_factory.mktemp("postgresql"))


@pytest.fixture(scope="module")
def shared(database_kind: str, request: pytest.FixtureRequest) -> Shared:
    """What the module's tests share with every other module's on their kind of database."""
    found: Shared = request.getfixturevalue(f"{database_kind}_shared")
    return found


@pytest.fixture(scope="module")
def module_database(shared: Shared) -> DatabaseUnderTest:
    """Where a module's tests keep their tables, emptied for each test (`migrated_database`):
    the process's SQLite file or migrated PostgreSQL schema for that kind of database."""
    return shared.database


@pytest.fixture
async def migrated_database(
    module_database: DatabaseUnderTest, request: pytest.FixtureRequest
) -> DatabaseUnderTest:
    """The test's database with the schema at the head and no rows but the migrations', as the
    app finds it after `phoneauth migrate`. Migrating costs ~0.2 s of CPU and ~1,400 tests start
    an app: the SQLite file is a new copy of the process's migrated file, or the process's
    migrated PostgreSQL schema is emptied of the previous test's rows."""
    if module_database.name == "sqlite":
        path = Path(module_database.url.removeprefix("sqlite+aiosqlite:///"))
        for leftover in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)
        shutil.copy2(request.getfixturevalue("migrated_sqlite_file"), path)
    else:
        await _start_again(request.getfixturevalue("migrated_postgresql_schema"))
    return module_database


@pytest.fixture(scope="module")
def module_settings(shared: Shared) -> Settings:
    """The settings of a module's tests: those every module shares on its kind of database,
    unless the module overrides this fixture (a public URL, a timeout)."""
    return shared.settings


@pytest.fixture
def settings(module_settings: Settings, migrated_database: DatabaseUnderTest) -> Settings:
    """The module's settings, its database emptied for this test."""
    return module_settings


@pytest.fixture(scope="module")
def module_app(module_settings: Settings, shared: Shared) -> FastAPI:
    """The app object of a module's tests, each running its own lifespan on it: the one shared
    by every module on that kind of database, or the module's own for settings of its own.
    FastAPI builds each route's state on an app's first requests that pass it (0.1 s of CPU for
    the first API call, 0.5 s for a 404), so once per process rather than once per test."""
    return shared.app if module_settings is shared.settings else create_app(module_settings)


@pytest.fixture
async def app(
    settings: Settings, module_settings: Settings, module_app: FastAPI
) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running (services built anew: default tenant, first admin key
    and setup token, shared client) on the test's emptied database. A test whose `settings`
    are its own gets an app of its own."""
    application = module_app if settings is module_settings else create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def services(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


@pytest.fixture
async def admin_key(services: Services) -> str:
    _, key = await services.admin_keys.create("tests")
    return key


@pytest.fixture
async def api(app: FastAPI, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A Management API client for the default tenant, authorised with a global admin key."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://phoneauth.test",
        headers={"Authorization": f"Bearer {admin_key}"},
    ) as client:
        yield client


# --- the test process's own memory -------------------------------------------------------------

PEAK_RSS_DIR = Path(__file__).parent / "artifacts" / "peak-rss"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Each process (xdist worker or the only one) records its peak resident memory."""
    import resource

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    PEAK_RSS_DIR.mkdir(parents=True, exist_ok=True)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    (PEAK_RSS_DIR / f"{worker}.txt").write_text(str(peak_kib))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line with every process's peak RSS: the suite must stay under 1 GB per worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    found = sorted(PEAK_RSS_DIR.glob("*.txt")) if PEAK_RSS_DIR.exists() else []
    peaks = [f"{path.stem} {int(path.read_text()) // 1024} MB" for path in found]
    if peaks:
        terminalreporter.write_line("peak RSS per test process: " + ", ".join(peaks))
    for path in found:
        path.unlink()
