"""A coroutine left mid-way by an event loop that closed: what an app stopped mid-request and
started again in the same process leaves behind."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def run_one_turn_then_close(work: Coroutine[Any, Any, object]) -> None:
    """Start `work` in a new loop, stop the loop after one turn (what `work` scheduled for later
    never runs), then cancel what is left and close it. `work` must not have finished."""
    dead = asyncio.new_event_loop()
    left = dead.create_task(work)
    dead.call_soon(dead.stop)
    dead.run_forever()
    assert not left.done()
    for task in asyncio.all_tasks(dead):
        task.cancel()
    dead.run_until_complete(asyncio.gather(*asyncio.all_tasks(dead), return_exceptions=True))
    dead.close()
