"""Shared counters with process memory behind them: a Redis outage degrades the rate limits to
per-process counting, never to no counting at all.

Before this, every counter call that failed let its request through: with Redis down, 200
concurrent sends to one number with a limit of 3 sent 200 SMS, and wrong codes stopped locking
anything. Now each instance counts on its own meanwhile (a client may get the limit once per
instance), logs one line when the outage starts and one when it ends, and `/health` says
"degraded". While the shared store is down it is tried again at most once per `retry_seconds`
(one caller tries, the others count in memory), so an unreachable host never slows every request.

What was counted in memory during an outage still counts in this process once the shared store
is back, for as long as its windows last: a number locked, or a budget used up, during the
outage stays so. Hits short of a limit are not carried over (the shared store has no way to
take hits with past times): at most one more budget per outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from phoneauth.domain.rate_limit_counters import CountersUnavailableError, TallyCounters, Window
from phoneauth.domain.rate_limit_memory import MemoryCounters

log = logging.getLogger("phoneauth.rate_limits")
T = TypeVar("T")


class _NoAnswer:
    """The shared store was not asked, or did not answer: memory counts instead."""


_NO_ANSWER = _NoAnswer()


class FallbackCounters:
    """`RateLimitCounters` on `shared` (Redis) while it answers, on `local` memory meanwhile."""

    def __init__(
        self,
        shared: TallyCounters,
        local: MemoryCounters | None = None,
        *,
        retry_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shared = shared
        self.local = local if local is not None else MemoryCounters()
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.down_since: float | None = None
        self.counted_locally = 0  # calls answered from memory in the current outage
        self._retry_at = 0.0

    @property
    def degraded(self) -> bool:
        """True while the shared counters are unreachable and memory counts instead."""
        return self.down_since is not None

    async def acquire(self, windows: Sequence[Window]) -> int | None:
        full = await self._full_locally(windows)
        if full is not None:
            return full
        answer = await self._from_shared(lambda: self.shared.acquire(windows))
        if not isinstance(answer, _NoAnswer):
            return answer
        self.counted_locally += 1
        return await self.local.acquire(windows)

    async def usage(self, window: Window) -> tuple[int, float]:
        local = await self.local.usage(window)
        shared = await self._from_shared(lambda: self.shared.usage(window))
        # A lock or a spent budget from an outage outlives it (see the module's doc).
        return local if isinstance(shared, _NoAnswer) else max(shared, local)

    async def record_failure(self, failures: Window, lock: Window) -> bool:
        locked = await self._from_shared(lambda: self.shared.record_failure(failures, lock))
        if not isinstance(locked, _NoAnswer):
            return locked
        self.counted_locally += 1
        return await self.local.record_failure(failures, lock)

    async def add(self, key: str, seconds: int) -> int:
        counted = await self._from_shared(lambda: self.shared.add(key, seconds))
        if not isinstance(counted, _NoAnswer):
            return counted
        self.counted_locally += 1
        return await self.local.add(key, seconds)

    async def tally(self, key: str) -> int:
        local = await self.local.tally(key)
        shared = await self._from_shared(lambda: self.shared.tally(key))
        return local if isinstance(shared, _NoAnswer) else max(shared, local)

    async def admit_distinct(self, key: str, member: str, limit: int, seconds: int) -> float | None:
        if self.local.distinct:  # only after an outage: what it admitted or filled still counts
            self.local.schedule_sweep()
            if self.local.holds_member(key, member):
                return None
            frees_at = self.local.distinct_frees_at(key, limit)
            if frees_at is not None:
                return frees_at
        answer = await self._from_shared(
            lambda: self.shared.admit_distinct(key, member, limit, seconds)
        )
        if not isinstance(answer, _NoAnswer):
            return answer
        self.counted_locally += 1
        return await self.local.admit_distinct(key, member, limit, seconds)

    async def reset(self) -> None:
        await self.local.reset()
        await self.shared.reset()

    async def check(self) -> bool:
        """Whether the shared counters answer now; a health probe also ends or starts an
        outage, so recovery is noticed even while no request comes."""
        started = self.clock()
        try:
            reachable = await self.shared.check()
        except CountersUnavailableError as error:
            self._failed(error)
            return False
        if not reachable:
            self._failed(None)
            return False
        self._answered(started)
        return True

    async def close(self) -> None:
        await self.local.close()
        await self.shared.close()

    async def _full_locally(self, windows: Sequence[Window]) -> int | None:
        """The first window that memory already holds full (only after an outage)."""
        if not any(self.local.windows.values()):
            return None
        self.local.schedule_sweep()  # outage-era keys are forgotten as their windows end
        for index, window in enumerate(windows):
            hits, _frees_at = await self.local.usage(window)
            if hits >= window.limit:
                return index
        return None

    async def _from_shared(self, call: Callable[[], Awaitable[T]]) -> T | _NoAnswer:
        """`call`'s answer from the shared store, or `_NoAnswer` when it is not asked (an
        outage, between retries) or fails (which starts or continues the outage)."""
        if not self._ask_shared():
            return _NO_ANSWER
        started = self.clock()
        try:
            answer = await call()
        except CountersUnavailableError as error:
            self._failed(error)
            return _NO_ANSWER
        self._answered(started)
        return answer

    def _ask_shared(self) -> bool:
        """Always while the shared store works; during an outage, one caller per interval."""
        if self.down_since is None:
            return True
        now = self.clock()
        if now < self._retry_at:
            return False
        self._retry_at = now + self.retry_seconds
        return True

    def _failed(self, error: CountersUnavailableError | None) -> None:
        now = self.clock()
        self._retry_at = now + self.retry_seconds
        if self.down_since is None:
            self.down_since = now
            self.counted_locally = 0
            reason = "no answer" if error is None else _root_cause(error)
            log.warning(
                "rate-limit counters unreachable (%s): counting in this process's memory until"
                " they are back; each instance now allows its own budget",
                reason,
            )

    def _answered(self, started: float) -> None:
        """A call begun at `started` succeeded. One begun before the outage was noticed (under
        way as the store went, while a concurrent one failed first) proves nothing about now."""
        if self.down_since is not None and started >= self.down_since:
            log.warning(
                "rate-limit counters are back after %.1f s (%d calls counted in memory"
                " meanwhile); counting is shared again",
                self.clock() - self.down_since,
                self.counted_locally,
            )
            self.down_since = None
            self.counted_locally = 0


def _root_cause(error: BaseException) -> str:
    """The class of the first failure in the chain (`ConnectionError`, `TimeoutError`): not its
    text, which may quote the store's URL, credentials included."""
    while error.__cause__ is not None:
        error = error.__cause__
    return type(error).__name__
