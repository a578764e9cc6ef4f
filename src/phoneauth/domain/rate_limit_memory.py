"""Moving-window counters in process memory: the default rate-limit counters, kept small.

limits' own memory storage (5.8) keeps, per key, a list of entry objects newest first: each hit
inserts at the front (it moves the whole list) and expired entries stay until a sweep. Under
`make bench` that meant a key per phone number worth about 550 bytes, IP and country lists of
tens of thousands of entries, and a few hundred thousand objects for the garbage collector:
its full passes took 100-190 ms each and set verify's p99.

Here a key holds the times of its hits, oldest first: a float for one hit, a tuple for a few, an
`array` for many (see `Times`). Only the arrays, a handful of busy keys, are tracked by the
garbage collector. Expired times are cut off as a key is used and by a sweep at most once a
minute. The answers are a moving window's, as limits counts it (tests compare the two).
"""

from __future__ import annotations

import asyncio
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import TypeAlias

from phoneauth.domain.rate_limit_counters import Window

# One hit: a float. A few: a tuple of floats, which the garbage collector stops tracking. Many
# (a busy address or country): an array("d"), appended to in place.
Times: TypeAlias = "float | tuple[float, ...] | array[float]"
SMALL = 32
_NONE: dict[int, Times] = {}


def _stored(times: tuple[float, ...] | array[float]) -> Times:
    if len(times) <= SMALL:
        return tuple(times)
    return times if isinstance(times, array) else array("d", times)


class MemoryCounters:
    """`RateLimitCounters` for one process, swept at most every `sweep_seconds`.

    Nothing but the sweep awaits, so on one event loop every test-and-count is atomic. Counting
    ignores expired times anyway; the sweep only frees memory, so once a minute is enough
    (limits swept after every hit, walking every key: half the server's CPU with a key per
    phone number).
    """

    sweep_seconds = 60.0
    sweep_batch = 10_000  # keys per loop turn: about 2 ms here, then other tasks run

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        # (window length, limit) -> hash of the key -> hit times, oldest first. The key's 64-bit
        # hash, not the key: an int is a quarter of a 50-character key's memory, and with a
        # key per phone number that was 8 MB per 100,000 numbers (`make bench`, RSS). Two keys
        # sharing a hash would share a count; with a million keys the odds are about 1 in 10^7.
        self.windows: dict[tuple[int, int], dict[int, Times]] = {}
        self.sweeping: asyncio.Task[None] | None = None
        # Tallies (`TallyCounters`): the key's hash -> (count, when it is forgotten).
        self.tallies: dict[int, tuple[int, float]] = {}
        self._next_sweep = 0.0

    async def acquire(self, windows: Sequence[Window]) -> int | None:
        """One hit in every window, or none: the index of the first full one; one clock reading."""
        self.schedule_sweep()
        now = self.clock()
        for index, (key, limit, seconds) in enumerate(windows):
            if not self._room(key, limit, seconds, now):
                return index
        for key, limit, seconds in windows:
            self._record(key, limit, seconds, now)
        return None

    async def usage(self, window: Window) -> tuple[int, float]:
        """(hits in the window, when the oldest of them leaves it); (0, now + length) if none."""
        return self._usage(window, self.clock())

    async def record_failure(self, failures: Window, lock: Window) -> bool:
        """Count a failure; the one that fills `failures` locks and clears them (True)."""
        self.schedule_sweep()
        now = self.clock()
        if self._room(*failures, now):
            self._record(*failures, now)
            if self._usage(failures, now)[0] < failures.limit:
                return False
        if self._room(*lock, now):
            self._record(*lock, now)
        self.windows.get((failures.seconds, failures.limit), _NONE).pop(hash(failures.key), None)
        return True

    async def add(self, key: str, seconds: int) -> int:
        self.schedule_sweep()
        now = self.clock()
        count, ends = self.tallies.get(hash(key), (0, 0.0))
        if ends <= now:
            count, ends = 0, now + seconds
        self.tallies[hash(key)] = (count + 1, ends)
        return count + 1

    async def tally(self, key: str) -> int:
        count, ends = self.tallies.get(hash(key), (0, 0.0))
        return count if ends > self.clock() else 0

    async def reset(self) -> None:
        self.windows.clear()
        self.tallies.clear()

    async def check(self) -> bool:
        return True  # process memory is always there

    async def close(self) -> None:
        if self.sweeping is not None:
            self.sweeping.cancel()

    def schedule_sweep(self) -> None:
        """Start a sweep if none ran for `sweep_seconds` (every count calls this)."""
        now = time.monotonic()
        if now >= self._next_sweep and (self.sweeping is None or self.sweeping.done()):
            self._next_sweep = now + self.sweep_seconds
            self.sweeping = asyncio.create_task(self.sweep())

    def _room(self, key: str, limit: int, seconds: int, now: float) -> bool:
        held = self.windows.get((seconds, limit), _NONE).get(hash(key))
        if held is None:
            return True
        times = (held,) if isinstance(held, float) else held
        # As in limits, a hit exactly `seconds` old still counts here (not in `usage`).
        return len(times) - bisect_left(times, now - seconds) < limit

    def _record(self, name: str, limit: int, seconds: int, now: float) -> None:
        window = self.windows.get((seconds, limit))
        if window is None:
            window = self.windows[seconds, limit] = {}
        key = hash(name)
        held = window.get(key)
        if held is None:
            window[key] = now
            return
        times = (held,) if isinstance(held, float) else held
        first = bisect_left(times, now - seconds)  # the oldest hit still in the window
        if first == len(times):
            window[key] = now
            return
        now = max(now, times[-1])  # the times stay sorted if the clock steps back
        if isinstance(times, array):
            if first * 2 > len(times):  # cut expired times once they are half: amortised O(1)
                del times[:first]
            times.append(now)
        else:
            window[key] = _stored((*times[first:], now))

    def _usage(self, window: Window, now: float) -> tuple[int, float]:
        held = self.windows.get((window.seconds, window.limit), _NONE).get(hash(window.key))
        if held is None:
            return 0, now + window.seconds
        times = (held,) if isinstance(held, float) else held
        first = bisect_right(times, now - window.seconds)
        count = len(times) - first
        return (count, times[first] + window.seconds) if count else (0, now + window.seconds)

    async def sweep(self, now: float | None = None) -> None:
        """Forget keys whose every hit has expired by `now` and trim the others."""
        now = self.clock() if now is None else now
        self.tallies = {key: held for key, held in self.tallies.items() if held[1] > now}
        for (seconds, _limit), window in list(self.windows.items()):
            cutoff = now - seconds
            for index, key in enumerate(list(window)):
                held = window.get(key)
                if held is not None:
                    newest = held if isinstance(held, float) else held[-1]
                    if newest <= cutoff:
                        del window[key]
                    elif not isinstance(held, float) and held[0] <= cutoff:
                        window[key] = _stored(held[bisect_right(held, cutoff) :])
                if index % self.sweep_batch == self.sweep_batch - 1:
                    await asyncio.sleep(0)
