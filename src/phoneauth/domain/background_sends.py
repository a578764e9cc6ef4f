"""SMS sends that the answer does not wait for, kept track of until they end.

The Experience API answers some sends before the provider does, so that how long the answer
takes cannot tell whether a phone number has an account (`experience_verifications`). The
tasks are held here (the event loop keeps only weak references to tasks), their failures are
logged, and on shutdown they are given time to finish, then cancelled: none is dropped unseen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("phoneauth.codes")


class BackgroundSends:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, send: Coroutine[Any, Any, None]) -> None:
        """Run `send` on the current loop; it handles and logs its own errors."""
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
        """Until every send started so far has ended (tests, and `drain`)."""
        while self.tasks:
            await asyncio.wait(set(self.tasks))

    async def drain(self, grace: float) -> None:
        """Shutdown: let pending sends end within `grace` seconds, then cancel the rest (each
        cancelled send writes a failed row to the message log on its way out)."""
        if not self.tasks:
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
