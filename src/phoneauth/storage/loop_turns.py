"""What the group commits share: the items added in one turn of the event loop, handed together
to a flush on the next turn, each caller waiting for its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from phoneauth.errors import DatabaseTroubleError

Item = TypeVar("Item")
R = TypeVar("R")

Waiting = tuple[Item, asyncio.Future[R]]


class LoopTurnBatches(Generic[Item, R]):
    """`flush(batch)` answers every future of its batch (a result or an error); a future it
    leaves unanswered because it was stopped is cancelled, so no caller waits forever."""

    def __init__(self, flush: Callable[[list[Waiting[Item, R]]], Awaitable[None]]) -> None:
        self._flush = flush
        self._waiting: list[Waiting[Item, R]] = []
        self._writers: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def add(self, item: Item) -> R:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (an app started again): nothing carries over
            self._waiting, self._loop = [], loop
        done: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, done))
        if len(self._waiting) == 1:
            # Runs on the next turn of the loop: everything added before then joins this batch.
            # A task of its own, so a cancelled caller never strands the others.
            writer = loop.create_task(self._run())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await done

    async def _run(self) -> None:
        batch, self._waiting = self._waiting, []
        try:
            await self._flush(batch)
        except BaseException:
            for _, done in batch:
                if not done.done():
                    done.cancel()
            raise


def answer(done: asyncio.Future[R], result: R) -> None:
    if not done.done():  # a caller cancelled meanwhile no longer waits
        done.set_result(result)


def fail(done: asyncio.Future[R], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)


async def settle(done: asyncio.Future[R], work: Awaitable[R]) -> None:
    """`done` answered with what `work` gives, or with the error it raises."""
    try:
        result = await work
    except Exception as error:
        fail(done, error)
    else:
        answer(done, result)


async def shared(
    unit: Callable[[], Awaitable[R]],
    waiting: Iterable[asyncio.Future[Any]],
    each_alone: Callable[[], Awaitable[None]],
) -> R | None:
    """What `unit()`, made for a whole batch, gives; None when it failed and every caller was
    answered: a database in trouble fails them all, as it would have failed each alone; any other
    error, in making the batch's statement (a value that cannot be stored) or in running it,
    runs `each_alone`, so only a caller at fault gets an error."""
    try:
        return await unit()
    except DatabaseTroubleError as error:
        for done in waiting:
            fail(done, error)
    except Exception:
        await each_alone()
    return None
