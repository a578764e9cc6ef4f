"""PostgreSQL: the reads by key of one loop turn (each "the row with this key") in one statement,
each caller given its own row.

Every Experience request reads its interaction first, and every send and verify looks up the
waiting code; on PostgreSQL each was a round trip of its own (the saves, the code upserts, the
message-log rows and the change counter are shared by a loop turn already). `GroupedReads` sends
the reads that arrive in the same turn of the event loop as one statement over arrays of keys and
hands each caller the row of its key, or None. The statement starts after all of its callers
did, so each of them sees every change committed before it began, as a read of its own would. A
key asked for twice in one turn is read once. A unit that fails for a reason of its own is retried
read by read; a busy or unreachable database fails every caller, as it would have failed each
alone. SQLite reads in-process and needs no round trip, so stores use this on PostgreSQL only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from phoneauth.storage.database import Database, Statement
from phoneauth.storage.loop_turns import LoopTurnBatches, Waiting, answer, fail, settle, shared

Key = TypeVar("Key", bound=Hashable)
Row = TypeVar("Row")


class GroupedReads(Generic[Key, Row]):
    """One per store. `many(keys)` is the unit for the reads of a turn, its result the rows
    found by key; `one(key)` reads a key alone."""

    def __init__(
        self,
        database: Database,
        *,
        many: Callable[[Sequence[Key]], Statement[dict[Key, Row]]],
        one: Callable[[Key], Awaitable[Row | None]],
    ) -> None:
        self.database = database
        self._many = many
        self._one = one
        self._batches: LoopTurnBatches[Key, Row | None] = LoopTurnBatches(self._read)

    async def read(self, key: Key) -> Row | None:
        return await self._batches.add(key)

    async def _read(self, batch: list[Waiting[Key, Row | None]]) -> None:
        keys = list(dict.fromkeys(key for key, _ in batch))
        if len(keys) == 1:
            try:
                found = await self._one(keys[0])
            except Exception as error:
                for _, done in batch:
                    fail(done, error)
                return
            for _, done in batch:
                answer(done, found)
            return
        rows = await shared(
            lambda: self.database.read(self._many(keys)),
            (done for _, done in batch),
            lambda: self._each(batch),
        )
        if rows is None:
            return
        for key, done in batch:
            answer(done, rows.get(key))

    async def _each(self, batch: list[Waiting[Key, Row | None]]) -> None:
        for key, done in batch:
            await settle(done, self._one(key))
