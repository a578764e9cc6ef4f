"""How many times the event loop served other work while one job ran."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def turns_during(job: Awaitable[T]) -> tuple[T, int]:
    """`job`'s result, and the turns another task got while it ran: a job that never hands
    the loop back (SQLite runs statements on the loop's own thread) leaves it at zero."""
    turns = 0

    async def count() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    counting = asyncio.create_task(count())
    await asyncio.sleep(0)  # the counter is waiting for its first turn
    try:
        result = await job
    finally:
        counting.cancel()
    return result, turns
