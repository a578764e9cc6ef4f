"""The engine plus a session factory, opened once per process; for an SQLite file also the
group-commit writer of the hot path and the change watch that keeps read caches honest."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from phoneauth.storage.engine import create_engine
from phoneauth.storage.sqlite_writer import GroupCommitWriter


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer: GroupCommitWriter | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def token(self) -> int:
        """The `ChangeWatch` of the caches (only with a writer): moves when others commit."""
        if self.writer is None:
            raise RuntimeError("no change watch without an SQLite writer")
        return self.writer.change_token()

    async def ping(self) -> None:
        """One round trip; raises when the database cannot be reached."""
        from phoneauth.storage.engine import ping

        await ping(self.engine)

    async def dispose(self) -> None:
        if self.writer is not None:
            self.writer.close()
        await self.engine.dispose()


def open_database(url: str, *, schema: str | None = None) -> Database:
    engine = create_engine(url, schema=schema)
    parsed = make_url(url)
    path = parsed.database
    writer = (
        GroupCommitWriter(path)
        if parsed.get_backend_name() == "sqlite" and path and path != ":memory:"
        else None
    )
    if writer is not None:
        # This process's own changes count at once, not from the next turn of the loop.
        event.listen(engine.sync_engine, "commit", lambda _connection: writer.forget_token())
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False), writer)
