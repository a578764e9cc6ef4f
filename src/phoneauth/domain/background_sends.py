"""SMS sends that the answer does not wait for, kept track of until they end.

The Experience API answers some sends before the provider does, so that how long the answer
takes cannot tell whether a phone number has an account (`experience_verifications`). The
tasks are held here (the event loop keeps only weak references to tasks), their failures are
logged, and on shutdown they are given time to finish, then cancelled: none is dropped unseen.

A send started inside `held()` waits until the caller releases it, after the answer is written:
a task started at once would run its first steps (the router, the message text, the HTTP
request) at the answer's next await, and make a registered number's answer a little slower.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

log = logging.getLogger("phoneauth.codes")

Send = Coroutine[Any, Any, None]
# Held sends start by then even if nobody releases them (an answer whose writing failed).
RELEASE_AT_THE_LATEST_S = 1.0


class HeldSends:
    """Sends started during one answer, to be started once it is written."""

    def __init__(self, owner: BackgroundSends) -> None:
        self.owner = owner
        self.sends: list[Send] = []

    def __bool__(self) -> bool:
        return bool(self.sends)

    async def release(self) -> None:
        """Async, so that Starlette's background tasks call it on the loop, not in a thread."""
        self.release_now()

    def release_now(self) -> None:
        self.owner.holding.discard(self)
        sends, self.sends = self.sends, []
        for send in sends:
            self.owner.run(send)


_held: ContextVar[HeldSends | None] = ContextVar("phoneauth_held_sends", default=None)


class BackgroundSends:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.holding: set[HeldSends] = set()  # held past their block, not yet released

    @contextmanager
    def held(self) -> Iterator[HeldSends]:
        """Sends started within wait for `HeldSends.release`; if the block fails, they start
        on the way out (the code is stored: its SMS still goes, as without holding)."""
        held = HeldSends(self)
        token = _held.set(held)
        try:
            yield held
        except BaseException:
            held.release_now()
            raise
        finally:
            _held.reset(token)
        if held:
            self.holding.add(held)
            asyncio.get_running_loop().call_later(RELEASE_AT_THE_LATEST_S, held.release_now)

    def start(self, send: Send) -> None:
        """Run `send` on the current loop (or once the answer is written, inside `held`); it
        handles and logs its own errors."""
        held = _held.get()
        if held is not None:
            held.sends.append(send)
        else:
            self.run(send)

    def run(self, send: Send) -> None:
        task = asyncio.create_task(send, name="phoneauth-background-sms")
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # A bug, not a provider failure (those are handled in the send): class name only,
            # its text could quote the message.
            log.error("a background SMS send failed unexpectedly (%s)", type(error).__name__)

    async def wait(self) -> None:
        """Until every send started so far has ended (tests, and `drain`); held ones start now."""
        for held in list(self.holding):
            held.release_now()
        while self.tasks:
            await asyncio.wait(set(self.tasks))

    async def drain(self, grace: float) -> None:
        """Shutdown: let pending sends end within `grace` seconds, then cancel the rest (each
        cancelled send writes a failed row to the message log on its way out)."""
        if not self.tasks and not self.holding:
            return
        try:
            async with asyncio.timeout(grace):
                await self.wait()
        except TimeoutError:
            pending = set(self.tasks)
            log.warning("stopping: %d SMS sends still waiting for the provider", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
