"""What the rate limits need from a counter store: moving windows, in memory or shared.

The domain states it here and imports no counting library or Redis client; the process-memory
counters (`rate_limit_memory`) and the shared Redis ones (`phoneauth.storage.rate_limit_redis`)
implement it, and the same domain tests run on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol


class Window(NamedTuple):
    """A moving-window budget: at most `limit` hits in any `seconds`, counted under `key`.

    Counters with the same key but another limit or length are separate, so a changed tenant
    setting starts afresh instead of judging old hits by the new rule (as limits' keys do).
    """

    key: str
    limit: int
    seconds: int


class CountersUnavailableError(Exception):
    """The counter store cannot be reached (Redis down); the caller decides what to let through."""


class RateLimitCounters(Protocol):
    """Moving-window counters. Every method may raise `CountersUnavailableError`."""

    async def acquire(self, windows: Sequence[Window]) -> int | None:
        """One hit in every window, or none: the index of the first window that is full.

        Concurrent callers never push a window past its limit.
        """
        ...

    async def usage(self, window: Window) -> tuple[int, float]:
        """(hits in the window now, epoch time at which its oldest hit leaves it).

        With no hits, the second is now plus the window length.
        """
        ...

    async def record_failure(self, failures: Window, lock: Window) -> bool:
        """Count one failure. The one that fills `failures` takes a hit in `lock` and clears
        `failures`, so counting starts over once the lock has run; True when it locked."""
        ...

    async def reset(self) -> None:
        """Forget every counter (tests and tools; never on the request path)."""
        ...

    async def check(self) -> bool:
        """True when the counters can be reached now (for /health)."""
        ...

    async def close(self) -> None:
        """Release connections and background work; the counters are not used afterwards."""
        ...


class TallyCounters(RateLimitCounters, Protocol):
    """Counters that also keep plain tallies: fixed windows that count and never refuse.

    A moving window keeps every hit's time, so a window that only counts (a day's SMS, a
    country's codes in an hour) would grow with the traffic, in memory and in Redis alike; a
    tally is one number per key whatever the traffic (the SMS pumping defence's counts).
    """

    async def add(self, key: str, seconds: int) -> int:
        """Count one under `key`, which is forgotten `seconds` after its first count; the
        count after this one."""
        ...

    async def tally(self, key: str) -> int:
        """The count under `key` (0 once forgotten)."""
        ...

    async def admit_distinct(self, key: str, member: str, limit: int, seconds: int) -> float | None:
        """Count `member` once in `key`'s budget of `limit` distinct members per `seconds`.

        None when it is admitted: already counted in the last `seconds` (not counted again;
        its time still runs from its first admission), or counted now. Otherwise the epoch
        time at which room frees (the time its `limit`-th newest member leaves), and nothing
        is recorded. Concurrent callers never admit more than `limit`. `limit` is at least 1.

        A moving window plus a "seen" tally per member did this before, at a key and a
        number per member in each; here a key holds its members and their times only (the
        SMS pumping defence's prefix budget: a member per phone number).
        """
        ...
