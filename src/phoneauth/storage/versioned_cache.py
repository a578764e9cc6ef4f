"""Caches for rows read on every request (admin keys, tenants, connectors, sign-in experiences).

An entry is good only while the configuration has not changed under it: database triggers move
one counter (`change_versions`, migration 0005) on every change to the cached tables, by this
process, another worker, another instance or a hand-written UPDATE, and a moved counter empties
the cache. The counter is read at most once per turn of the event loop (and after each write of
this process), so a "change connector" is used by the very next send on every process; that one
small read replaces several larger ones per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

from phoneauth.storage.database import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ChangeWatch(Protocol):
    async def change_version(self) -> int:
        """Differs from the last answer after anyone changed a cached table."""
        ...


class VersionedCache(Generic[K, V]):
    """Found values (never misses, so unknown keys cannot fill memory), at most `size`."""

    def __init__(self, watch: ChangeWatch, size: int = 1024) -> None:
        self._watch = watch
        self._size = size
        self._token: int | None = None
        self._entries: dict[K, V] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        token = await self._watch.change_version()
        if token != self._token:
            self._entries.clear()
            self._token = token
        found = self._entries.get(key)
        if found is not None:
            return found
        loaded = await load()
        # Stored under the token read before loading: a change committed meanwhile moves the
        # counter again and empties the cache at the next lookup.
        if loaded is not None and self._token == token:
            if len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = loaded
        return loaded

    def clear(self) -> None:
        self._entries.clear()


def cache_for(database: Database) -> VersionedCache[Any, Any]:
    """A cache kept honest by the database's change counter (both databases)."""
    return VersionedCache(database)
