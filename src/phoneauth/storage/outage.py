"""One log line when the database goes away and one when it is back, not a traceback per request."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("phoneauth.database")


class OutageLog:
    """Remembers whether the database is down, so that an outage is logged once."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.failures = 0

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            # The error's class only: its text may carry a connection string.
            log.error(
                "database unavailable (%s); answering 503 server.unavailable until it is back",
                type(error).__name__,
            )

    def succeeded(self, started: float | None = None) -> None:
        """A unit of work succeeded; `started` (`time.monotonic()`) is when it began. One that
        began before the outage was noticed (it was under way as the server stopped, and a
        concurrent one failed first) proves nothing about the database now: only a unit begun
        since says it is back, or the outage would be logged as over and begun again."""
        if self.down_since is not None and (started is None or started >= self.down_since):
            seconds = time.monotonic() - self.down_since
            log.warning(
                "database is back after %.1f s (%d requests answered 503 meanwhile)",
                seconds,
                self.failures,
            )
            self.down_since = None
            self.failures = 0
