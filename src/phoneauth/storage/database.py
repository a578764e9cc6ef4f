"""The engine plus a session factory, opened once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from phoneauth.storage.engine import create_engine


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.engine.dispose()


def open_database(url: str, *, schema: str | None = None) -> Database:
    engine = create_engine(url, schema=schema)
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))
