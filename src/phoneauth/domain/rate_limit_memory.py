"""Moving-window counters in process memory: the default rate-limit storage, kept small.

limits' own memory storage (5.8) keeps, per key, a list of entry objects newest first: each hit
inserts at the front (it moves the whole list) and expired entries stay until a sweep. Under
`make bench` that meant a key per phone number worth about 550 bytes, IP and country lists of
tens of thousands of entries, and a few hundred thousand objects for the garbage collector:
its full passes took 100-190 ms each and set verify's p99.

Here a key holds the times of its hits, oldest first, grouped by window length: a float for one
hit, a tuple for a few, an `array` for many (see `Times`). Only the arrays, a handful of busy
keys, are tracked by the garbage collector. Expired times are cut off as a key is used and by a
sweep once a minute. The
contract is limits' (`MovingWindowSupport`), so limits' moving-window strategy runs on it as on
Redis; fixed-window counting is limits' own.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import TypeAlias

from limits.aio.storage import MemoryStorage

# One hit: a float. A few: a tuple of floats, which the garbage collector stops tracking. Many
# (a busy address or country): an array("d"), appended to in place.
Times: TypeAlias = "float | tuple[float, ...] | array[float]"
SMALL = 32


def _stored(times: tuple[float, ...] | array[float]) -> Times:
    if len(times) <= SMALL:
        return tuple(times)
    return times if isinstance(times, array) else array("d", times)


class CompactMemoryStorage(MemoryStorage):
    """limits' memory storage with compact moving windows, swept at most every `sweep_seconds`.

    limits starts a new sweep on every hit once the previous one has ended, walking every key:
    with a key per phone number that was half the server's CPU. Counting ignores expired times
    anyway; the sweep only frees memory, so once a minute is enough.
    """

    sweep_seconds = 60.0
    sweep_batch = 10_000  # keys per loop turn: about 2 ms here, then other tasks run
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # Window length (s) -> key -> hit times, oldest first.
        self.windows: dict[int, dict[str, Times]] = {}
        self._next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # limits' hook for fixed windows
        self._schedule_sweep()

    def _schedule_sweep(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep and (self.timer is None or self.timer.done()):
            self._next_sweep = now + self.sweep_seconds
            self.timer = asyncio.create_task(self.sweep())

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Record `amount` hits now unless that would put more than `limit` in the window.

        Nothing here awaits, so on one event loop the test and the append are atomic."""
        if amount > limit:
            return False
        self._schedule_sweep()
        now = self.clock()
        if self._room(key, limit, expiry, amount, now):
            self._record(key, expiry, amount, now)
            return True
        return False

    def acquire_together(self, budgets: Sequence[tuple[str, int, int]]) -> int | None:
        """One hit in each of `budgets` (key, limit, window length), or none: the index of the
        first budget without room. What limits' strategy does in two calls per budget (test,
        then hit), in one step with one clock reading."""
        self._schedule_sweep()
        now = self.clock()
        for index, (key, limit, expiry) in enumerate(budgets):
            if not self._room(key, limit, expiry, 1, now):
                return index
        for key, _limit, expiry in budgets:
            self._record(key, expiry, 1, now)
        return None

    def _room(self, key: str, limit: int, expiry: int, amount: int, now: float) -> bool:
        held = self.windows.get(expiry, {}).get(key)
        if held is None:
            return amount <= limit
        times = (held,) if isinstance(held, float) else held
        # As in limits, a hit exactly `expiry` old still counts here (not in get_moving_window).
        return len(times) - bisect_left(times, now - expiry) + amount <= limit

    def _record(self, key: str, expiry: int, amount: int, now: float) -> None:
        window = self.windows.get(expiry)
        if window is None:
            window = self.windows[expiry] = {}
        held = window.get(key)
        if held is None:
            window[key] = now if amount == 1 else _stored((now,) * amount)
            return
        times = (held,) if isinstance(held, float) else held
        first = bisect_left(times, now - expiry)  # the oldest hit still in the window
        if first == len(times) and amount == 1:
            window[key] = now
            return
        now = max(now, times[-1])  # the times stay sorted if the clock steps back
        if isinstance(times, array):
            if first * 2 > len(times):  # cut expired times once they are half: amortised O(1)
                del times[:first]
            times.extend([now] * amount)
        else:
            window[key] = _stored(times[first:] + (now,) * amount)

    def count(self, key: str, expiry: int) -> int:
        """Hits in the window now, as `get_moving_window` counts them."""
        return self._window_now(key, expiry, self.clock())[1]

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(time of the oldest hit in the window, hits in the window); (now, 0) when none."""
        return self._window_now(key, expiry, self.clock())

    def _window_now(self, key: str, expiry: int, now: float) -> tuple[float, int]:
        held = self.windows.get(expiry, {}).get(key)
        if held is None:
            return now, 0
        times = (held,) if isinstance(held, float) else held
        first = bisect_right(times, now - expiry)
        count = len(times) - first
        return (times[first], count) if count else (now, 0)

    async def clear(self, key: str) -> None:
        await super().clear(key)
        for window in self.windows.values():
            window.pop(key, None)

    async def reset(self) -> int | None:
        cleared = sum(len(window) for window in self.windows.values())
        self.windows.clear()
        return max(cleared, await super().reset() or 0)

    async def sweep(self, now: float | None = None) -> None:
        """Forget keys whose every hit has expired by `now` and trim the others; then limits'
        fixed-window counters past their expiry."""
        now = self.clock() if now is None else now
        for expiry, window in list(self.windows.items()):
            cutoff = now - expiry
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
        for key, expires in list(self.expirations.items()):
            if expires <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)
