"""Moving-window counters in process memory: the default rate-limit counters, kept small.

limits' own memory storage (5.8) keeps, per key, a list of entry objects newest first: each hit
inserts at the front (it moves the whole list) and expired entries stay until a sweep. Under
`make bench` that meant a key per phone number worth about 550 bytes, IP and country lists of
tens of thousands of entries, and a few hundred thousand objects for the garbage collector:
its full passes took 100-190 ms each and set verify's p99.

Here a key holds the times of its hits, oldest first. A key hit once (nearly every phone number)
is a slot in a `HitTable`, flat arrays with no object per key; a key hit more often holds a
tuple for a few hits, an `array` for many (see `Times`). Nothing here is tracked by the garbage
collector but a window's dict of the keys hit more than once. Expired times are cut off as a
key is used and by a sweep at most once a minute. The answers are a moving window's, as limits
counts it (tests compare the two).

Distinct members (`admit_distinct`, the SMS pumping defence's numbers per prefix) are kept per
key as each member and its expiry: a flat tuple for a few, a dict for more (see `Members`), the
member strings interned so that every key shares them (a prefix's last digits: 1,000 strings).
"""

from __future__ import annotations

import asyncio
import sys
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice
from typing import TypeAlias, cast

from phoneauth.domain.hit_table import HitTable
from phoneauth.domain.rate_limit_counters import Window

# Two hits or more: a few, a tuple of floats, which the garbage collector stops tracking; many
# (a busy address or country), an array("d"), appended to in place. One hit: `HitTable`.
Times: TypeAlias = "tuple[float, ...] | array[float]"
SMALL = 32

# A key's distinct members and when each leaves, in admission order, so the expiries rise and
# the expired members come first. Up to SMALL_MEMBERS: one flat tuple (member, expiry, member,
# expiry, ...): 40 bytes per member with its float, where a dict of two costs 232 (a key per
# prefix mostly holds one or two numbers: 100,000 numbers spread over prefixes took 14 MB in
# dicts, 11 MB so). More members: a dict member -> expiry, for its O(1) lookup.
Members: TypeAlias = "tuple[str | float, ...] | dict[str, float]"
SMALL_MEMBERS = 16


def _count(held: Members) -> int:
    return len(held) // 2 if isinstance(held, tuple) else len(held)


def _expiries(held: Members) -> Iterable[float]:
    return cast("tuple[float, ...]", held[1::2]) if isinstance(held, tuple) else held.values()


def _frees_at(held: Members, limit: int) -> float | None:
    """When fewer than `limit` members are left, if `held` has `limit` or more; else None."""
    surplus = _count(held) - limit
    return None if surplus < 0 else next(islice(_expiries(held), surplus, None))


def _flat(members: Iterable[tuple[str, float]]) -> tuple[str | float, ...]:
    return tuple(chain.from_iterable(members))


def _stored(times: tuple[float, ...] | array[float]) -> Times:
    if len(times) <= SMALL:
        return tuple(times)
    return times if isinstance(times, array) else array("d", times)


class KeyWindow:
    """The keys of one window (length, limit): a key hit once in `once`, the others in `more`."""

    __slots__ = ("more", "once")

    def __init__(self) -> None:
        self.once = HitTable()
        self.more: dict[int, Times] = {}

    def __len__(self) -> int:
        return len(self.once) + len(self.more)

    def times(self, key: int) -> Times | None:
        """The key's hit times, oldest first (expired ones may be among them)."""
        held = self.more.get(key)
        if held is not None:
            return held
        time = self.once.get(key)
        return None if time is None else (time,)

    def hold(self, key: int, times: Times) -> None:
        """`times` (one at least) as the key's hits."""
        if len(times) == 1:
            self.more.pop(key, None)
            self.once.put(key, times[0])
        else:
            if key not in self.more:
                self.once.remove(key)
            self.more[key] = times

    def remove(self, key: int) -> None:
        if self.more.pop(key, None) is None:
            self.once.remove(key)


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
        # (window length, limit) -> the key's hash -> hit times, oldest first. The key's 64-bit
        # hash, not the key: the key, a 50-character string per phone number, was 8 MB per
        # 100,000 numbers (`make bench`, RSS). Two keys sharing a hash would share a count;
        # with a million keys the odds are about 1 in 10^7.
        self.windows: dict[tuple[int, int], KeyWindow] = {}
        self.sweeping: asyncio.Task[None] | None = None
        # Tallies (`TallyCounters`): the key's hash -> (count, when it is forgotten).
        self.tallies: dict[int, tuple[int, float]] = {}
        # Distinct members (`admit_distinct`): the key's hash -> its members (`Members`).
        self.distinct: dict[int, Members] = {}
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
        cleared = self.windows.get((failures.seconds, failures.limit))
        if cleared is not None:
            cleared.remove(hash(failures.key))
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

    async def admit_distinct(self, key: str, member: str, limit: int, seconds: int) -> float | None:
        """None when `member` is counted in `key` (before or now), else when room frees."""
        if limit < 1:
            raise ValueError("a budget of distinct members holds at least one")
        self.schedule_sweep()
        now = self.clock()
        name = hash(key)
        held = self._members(name, now)
        if held is None:
            self.distinct[name] = (sys.intern(member), now + seconds)
            return None
        if member in held:  # a flat tuple's floats never equal a str
            return None
        frees_at = _frees_at(held, limit)
        if frees_at is not None:
            return frees_at
        newest = next(reversed(held.values())) if isinstance(held, dict) else cast(float, held[-1])
        expiry = max(now + seconds, newest)  # in order even if the clock steps back
        member = sys.intern(member)
        if isinstance(held, dict):
            held[member] = expiry
        elif len(held) < 2 * SMALL_MEMBERS:
            self.distinct[name] = (*held, member, expiry)
        else:
            members = cast("tuple[str, ...]", held[::2])
            self.distinct[name] = {
                **dict(zip(members, _expiries(held), strict=True)),
                member: expiry,
            }
        return None

    def holds_member(self, key: str, member: str) -> bool:
        """Whether `member` is counted in `key` now; counts nothing (for `FallbackCounters`:
        what was admitted here during an outage)."""
        held = self._members(hash(key), self.clock())
        return held is not None and member in held

    def distinct_frees_at(self, key: str, limit: int) -> float | None:
        """When room frees, if `key` holds `limit` members or more now; else None. Counts
        nothing (for `FallbackCounters`: a budget filled here during an outage)."""
        held = self._members(hash(key), self.clock())
        return None if held is None else _frees_at(held, limit)

    async def reset(self) -> None:
        self.windows.clear()
        self.tallies.clear()
        self.distinct.clear()

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
        window = self.windows.get((seconds, limit))
        times = None if window is None else window.times(hash(key))
        if times is None:
            return True
        # As in limits, a hit exactly `seconds` old still counts here (not in `usage`).
        return len(times) - bisect_left(times, now - seconds) < limit

    def _record(self, name: str, limit: int, seconds: int, now: float) -> None:
        window = self.windows.get((seconds, limit))
        if window is None:
            window = self.windows[seconds, limit] = KeyWindow()
        key = hash(name)
        times = window.times(key)
        if times is None:
            window.once.put(key, now)
            return
        first = bisect_left(times, now - seconds)  # the oldest hit still in the window
        if first == len(times):
            window.hold(key, (now,))
            return
        now = max(now, times[-1])  # the times stay sorted if the clock steps back
        if isinstance(times, array):
            if first * 2 > len(times):  # cut expired times once they are half: amortised O(1)
                del times[:first]
            times.append(now)
        else:
            window.hold(key, _stored((*times[first:], now)))

    def _members(self, name: int, now: float) -> Members | None:
        """The key's members still counted at `now`, the expired ones forgotten (each once:
        they come first). A dict is rebuilt once more than half of it expired (dicts never
        shrink), so it holds at most twice its members; a tuple again when they are few."""
        held = self.distinct.get(name)
        if held is None:
            return None
        expired = 0
        for expiry in _expiries(held):
            if expiry > now:
                break
            expired += 1
        if expired == 0:
            return held
        if expired == _count(held):
            del self.distinct[name]
            return None
        if isinstance(held, tuple):
            held = self.distinct[name] = held[2 * expired :]
        elif expired * 2 > len(held):
            left = islice(held.items(), expired, None)
            kept = dict(left) if len(held) - expired > SMALL_MEMBERS else _flat(left)
            held = self.distinct[name] = kept
        else:
            for member in list(islice(held, expired)):
                del held[member]
        return held

    def _usage(self, window: Window, now: float) -> tuple[int, float]:
        keys = self.windows.get((window.seconds, window.limit))
        times = None if keys is None else keys.times(hash(window.key))
        if times is None:
            return 0, now + window.seconds
        first = bisect_right(times, now - window.seconds)
        count = len(times) - first
        return (count, times[first] + window.seconds) if count else (0, now + window.seconds)

    async def sweep(self, now: float | None = None) -> None:
        """Forget keys whose every hit (or member) has expired by `now` and trim the others."""
        now = self.clock() if now is None else now
        self.tallies = {key: held for key, held in self.tallies.items() if held[1] > now}
        for index, name in enumerate(list(self.distinct)):
            self._members(name, now)
            if index % self.sweep_batch == self.sweep_batch - 1:
                await asyncio.sleep(0)
        for (seconds, _limit), window in list(self.windows.items()):
            cutoff = now - seconds
            for index, key in enumerate(list(window.more)):
                held = window.more.get(key)
                if held is not None:
                    if held[-1] <= cutoff:
                        del window.more[key]
                    elif held[0] <= cutoff:
                        window.hold(key, _stored(held[bisect_right(held, cutoff) :]))
                if index % self.sweep_batch == self.sweep_batch - 1:
                    await asyncio.sleep(0)
            # A shard of the table at a time: a few hundred slots, then other tasks run.
            for _shard in window.once.sweep(cutoff):
                await asyncio.sleep(0)
