"""Long deletions (prunes, cleanups) in short statements, with other requests served between
them: on SQLite a unit runs on the event loop's own thread and awaits nothing, so one DELETE of
an hour's rows, or batches run back to back, held every request until all were gone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select

from phoneauth.storage.database import Database, changed_rows


async def between_batches() -> None:
    """Let the event loop serve other requests between two batches of a long job (32,000 codes
    pruned in batches run back to back: every request held 640-760 ms; with this, ~20 ms)."""
    await asyncio.sleep(0)


async def delete_in_batches(
    database: Database,
    table: type[Any],
    key: Any,
    order: Any,
    conditions: Sequence[ColumnElement[bool]],
    batch: int,
) -> int:
    """Delete `table`'s rows that meet `conditions`, `batch` at a time in the order of `order`
    (an indexed column, so each batch is found without a scan), found again by `key` (the
    primary key); other requests are served between batches. How many were deleted."""
    first = select(key).where(*conditions).order_by(order).limit(batch)
    statement = delete(table).where(key.in_(first.scalar_subquery()))
    deleted = 0
    while True:
        changed = await database.write(changed_rows(statement), single_statement=True)
        deleted += changed
        if changed < batch:
            return deleted
        await between_batches()
