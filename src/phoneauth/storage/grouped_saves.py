"""PostgreSQL: the optimistic saves of one loop turn (each "update this row if it still has the
version I read") in one statement, each caller told whether its own row was updated.

Every Experience request saves its interaction, and on PostgreSQL that save was a round trip of
its own: an experiment without it (wrong, for measuring only) served a third more Experience
send-codes. `GroupedSaves` sends the saves that arrive in the same turn of the event loop as one
statement over arrays of keys, versions and documents, `RETURNING` the keys it updated. A key saved
twice in one turn (two requests racing on one interaction) goes in the statement once; the later
saves run alone after it, so exactly one of two saves from one version wins, as before. A unit
that fails for a reason of its own is retried save by save; a busy or unreachable database fails
every caller, as it would have failed each alone. SQLite groups its writes itself (one
transaction per loop turn, `phoneauth.storage.database`), so stores use this on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any

from phoneauth.storage.database import Database, Statement
from phoneauth.storage.loop_turns import LoopTurnBatches, Waiting, answer, settle, shared

_Save = dict[str, Any]


class GroupedSaves:
    """One per store. `many(saves)` is the unit for the saves of a turn, its result the keys it
    changed; `key(save)` names a save's row; `one(save)` runs a save alone."""

    def __init__(
        self,
        database: Database,
        *,
        many: Callable[[Sequence[_Save]], Statement[set[Hashable]]],
        key: Callable[[_Save], Hashable],
        one: Callable[[_Save], Awaitable[bool]],
    ) -> None:
        self.database = database
        self._many = many
        self._key = key
        self._one = one
        self._batches: LoopTurnBatches[_Save, bool] = LoopTurnBatches(self._write)

    async def save(self, save: _Save) -> bool:
        """Whether the row had the expected version (and now has the new document)."""
        return await self._batches.add(save)

    async def _write(self, batch: list[Waiting[_Save, bool]]) -> None:
        first: dict[Hashable, Waiting[_Save, bool]] = {}
        later: list[Waiting[_Save, bool]] = []
        for waiting in batch:
            key = self._key(waiting[0])
            if key in first:
                later.append(waiting)
            else:
                first[key] = waiting
        if len(first) == 1:
            await self._alone(*next(iter(first.values())))
        else:
            await self._together(first)
        for waiting in later:
            await self._alone(*waiting)

    async def _together(self, first: dict[Hashable, Waiting[_Save, bool]]) -> None:
        saves = [save for save, _ in first.values()]
        changed = await shared(
            lambda: self.database.write(self._many(saves), single_statement=True),
            (done for _, done in first.values()),
            lambda: self._each(first.values()),
        )
        if changed is None:
            return
        for key, (_, done) in first.items():
            answer(done, key in changed)

    async def _each(self, batch: Iterable[Waiting[_Save, bool]]) -> None:
        for waiting in batch:
            await self._alone(*waiting)

    async def _alone(self, save: _Save, done: asyncio.Future[bool]) -> None:
        await settle(done, self._one(save))
