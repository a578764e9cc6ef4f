"""Caches for rows read on every request (admin keys, tenants, the active connector).

An entry is good only while the database has not changed under it: a `ChangeWatch` gives a token
that moves on every commit made by anyone else, and a moved token empties the cache. On SQLite the
token is the group-commit writer's `PRAGMA data_version`, which moves on every commit of another
connection (the engine's, or another process's), so a "change connector" is seen by the very next
send on every process sharing the file. The hot-path writes (codes, message log) go through the
writer itself and do not move it. Where no cheap token exists (PostgreSQL shared by several
instances) `watch` is None and every lookup reads the database, as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

from phoneauth.storage.database import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ChangeWatch(Protocol):
    def token(self) -> int:
        """Differs from the last answer after someone else committed a change."""
        ...


class VersionedCache(Generic[K, V]):
    """Found values (never misses, so unknown keys cannot fill memory), at most `size`."""

    def __init__(self, watch: ChangeWatch, size: int = 1024) -> None:
        self._watch = watch
        self._size = size
        self._token: int | None = None
        self._entries: dict[K, V] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        token = self._watch.token()
        if token != self._token:
            self._entries.clear()
            self._token = token
        found = self._entries.get(key)
        if found is not None:
            return found
        loaded = await load()
        # Stored under the token read before loading: a change committed meanwhile moves the
        # token again and empties the cache at the next lookup.
        if loaded is not None and self._token == token:
            if len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = loaded
        return loaded

    def clear(self) -> None:
        self._entries.clear()


def cache_for(database: Database) -> VersionedCache[Any, Any] | None:
    """A cache where the database offers a change watch (an SQLite file), else None."""
    return None if database.writer is None else VersionedCache(database)
