"""The database engine: an SQLite file in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from phoneauth.storage.inline_sqlite import inline_creator


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and the writer proceed together.
    # synchronous=NORMAL, SQLite's advice for WAL: a commit no longer waits for an fsync (about
    # 4 ms here, one writer at a time; `make bench`); a power cut may lose the last commits,
    # never the database. An application crash loses nothing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # No waiting inside SQLite: inline_sqlite retries a locked statement without stopping the loop.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, *, schema: str | None = None) -> AsyncEngine:
    """An async engine; for SQLite the folder is created and WAL switched on at every connect.

    `schema` puts every PostgreSQL table in that schema (one database shared by several uses).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        database = parsed.database or ":memory:"
        # One connection, its calls made on the event loop (see inline_sqlite): one transaction
        # at a time in this process, so writers never wait for each other's locks.
        pool: dict[str, Any] = (
            {"poolclass": StaticPool}
            if database == ":memory:"
            else {"pool_size": 1, "max_overflow": 0}
        )
        engine = create_async_engine(url, async_creator=inline_creator(database), **pool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(url, pool_pre_ping=True, connect_args=connect_args)


async def ping(engine: AsyncEngine) -> None:
    """Fail fast at start-up when the database cannot be reached."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
