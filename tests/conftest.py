"""Fixtures every test may use: a clean environment and real local servers for fault tests."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import tests.cheap_hashing  # noqa: F401 - first: before phoneauth hashes anything
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from phoneauth.settings import Settings
from phoneauth.storage.database import open_database
from phoneauth.storage.migrate import upgrade
from phoneauth.web.app import create_app
from phoneauth.wiring import Services


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PHONEAUTH_* setting of the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("PHONEAUTH_"):
            monkeypatch.delenv(key)


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
    """Where one test's tables live: an SQLite file, or a fresh PostgreSQL schema."""

    name: str
    url: str
    schema: str | None = None


@pytest.fixture(params=["sqlite", "postgresql"])
async def test_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseUnderTest]:
    """Each storage test runs twice: on a real SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'phoneauth.db'}")
        return
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, DBAPIError) as error:
        await admin.dispose()
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required for this test: {error}")
    database = DatabaseUnderTest("postgresql", POSTGRES_URL, schema)
    migrated = open_database(database.url, schema=schema)
    await upgrade(migrated.engine)
    await migrated.dispose()
    try:
        yield database
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


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
def settings(test_database: DatabaseUnderTest, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=test_database.url,
        database_schema=test_database.schema,
        secret_key=SecretStr("test-secret-key"),
        connector_allow_private_hosts=True,  # the fake providers listen on 127.0.0.1
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running (migrations, default tenant, shared client)."""
    application = create_app(settings)
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
