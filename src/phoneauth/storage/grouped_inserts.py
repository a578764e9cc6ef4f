"""Group commit for one statement run with many rows (message-log appends, code upserts): rows
added in the same turn of the event loop are written together, in the order they came, and each
caller returns once its own row is committed. Only for statements whose callers need no result.

Every send appends a message-log row. Alone, that row cost an SQLite commit (the commit, not the
row, was most of it: about 60 µs against 20 µs for a row within a transaction) or a PostgreSQL
round trip. Under load many sends reach that point in the same loop turn; their rows now go in one
`Batch` unit (one commit, one round trip). Nothing is acknowledged before it is stored: `add`
returns only after the unit that holds its row committed.

A batch that fails for a reason of its own rows (a constraint, a bad value) is tried again row by
row, so only the caller whose row is at fault gets the error. A busy or unreachable database fails
every caller of the batch with that error, as it would have failed each of them alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from phoneauth.storage.database import Batch, Database, changed_rows
from phoneauth.storage.loop_turns import LoopTurnBatches, Waiting, answer, settle, shared
from phoneauth.storage.prepared import Prepared


class GroupedInsert:
    """One per store and statement; `add` is safe to call from many tasks at once."""

    def __init__(self, database: Database, statement: Prepared) -> None:
        self.database = database
        self.statement = statement
        self._batches: LoopTurnBatches[dict[str, Any], None] = LoopTurnBatches(self._write)

    async def add(self, row: dict[str, Any]) -> None:
        """Insert `row`; returns once it is committed, or raises what its unit raised."""
        await self._batches.add(row)

    async def _write(self, batch: list[Waiting[dict[str, Any], None]]) -> None:
        if len(batch) == 1:
            await self._one(*batch[0])
            return
        written = await shared(
            lambda: self.database.write(
                Batch(self.statement, [row for row, _ in batch]), single_statement=True
            ),
            (done for _, done in batch),
            lambda: self._each(batch),
        )
        if written is None:
            return
        for _, done in batch:
            answer(done, None)

    async def _each(self, batch: list[Waiting[dict[str, Any], None]]) -> None:
        for row, done in batch:
            await self._one(row, done)

    async def _one(self, row: dict[str, Any], done: asyncio.Future[None]) -> None:
        await settle(done, self._insert_one(row))

    async def _insert_one(self, row: dict[str, Any]) -> None:
        await self.database.write(changed_rows(self.statement, row), single_statement=True)
