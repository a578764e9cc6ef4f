"""A map of 64-bit key hashes to times, in flat arrays: no Python object per key.

The send budgets hold a key per phone number, nearly all hit once. As a dict of int to float
each cost about 110 bytes (an int, a float, a dict slot: 11 MB per 100,000 numbers under
`make bench`, where the SQLite server's RSS target is 150 MB); here a slot is 16 bytes of two
arrays, 21-43 bytes a key with the table between 3/8 and 3/4 full.

Open addressing with linear probing, split into 256 shards by the key's low bits, so that a
shard that grows or is rebuilt copies a few hundred slots (well under a millisecond) and never
the whole table: no pause grows with the number of keys. A time of 0.0 marks a slot never used
(times are positive), -1.0 a removed key's slot, which lookups pass and inserts reuse.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

SHARD_BITS = 8
SHARDS = 1 << SHARD_BITS
_SHARD_MASK = SHARDS - 1
EMPTY = 0.0
REMOVED = -1.0
_SMALLEST = 8  # slots of a shard once it holds anything


def _size_for(keys: int) -> int:
    """The power of two that holds `keys` at most 3/4 full, so a new key fits before it grows."""
    size = _SMALLEST
    while size * 3 <= keys * 4:
        size *= 2
    return size


class HitTable:
    """Key hash -> a positive time. Not thread-safe; nothing here awaits."""

    __slots__ = ("_keys", "_live", "_times", "_used")

    def __init__(self) -> None:
        self._keys = [array("q") for _ in range(SHARDS)]
        self._times = [array("d") for _ in range(SHARDS)]
        self._used = [0] * SHARDS  # slots not EMPTY: keys and removed keys' slots
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def get(self, key: int) -> float | None:
        shard, slot = self._find(key)
        return None if slot < 0 else self._times[shard][slot]

    def _find(self, key: int) -> tuple[int, int]:
        """The key's shard and slot; slot -1 when the key is not held."""
        shard = key & _SHARD_MASK
        times = self._times[shard]
        mask = len(times) - 1
        if mask < 0:
            return shard, -1
        keys = self._keys[shard]
        slot = (key >> SHARD_BITS) & mask
        while True:
            time = times[slot]
            if time == EMPTY:
                return shard, -1
            if keys[slot] == key and time != REMOVED:
                return shard, slot
            slot = (slot + 1) & mask

    def put(self, key: int, time: float) -> None:
        if time <= 0:
            raise ValueError("a hit time is positive")
        shard = key & _SHARD_MASK
        keys, times = self._keys[shard], self._times[shard]
        mask = len(times) - 1
        if mask < 0 or (self._used[shard] + 1) * 4 > len(times) * 3:
            self._rebuild(shard, self._live_in(shard) + 1)
            keys, times = self._keys[shard], self._times[shard]
            mask = len(times) - 1
        slot = (key >> SHARD_BITS) & mask
        reusable = -1
        while True:
            held = times[slot]
            if held == EMPTY:
                break
            if held == REMOVED:
                if reusable < 0:
                    reusable = slot
            elif keys[slot] == key:
                times[slot] = time
                return
            slot = (slot + 1) & mask
        if reusable >= 0:
            slot = reusable
        else:
            self._used[shard] += 1
        keys[slot], times[slot] = key, time
        self._live += 1

    def remove(self, key: int) -> None:
        shard, slot = self._find(key)
        if slot >= 0:
            self._times[shard][slot] = REMOVED
            self._live -= 1

    def sweep(self, cutoff: float) -> Iterator[None]:
        """Forget every time at or before `cutoff`, a shard at a time (yields after each one):
        a shard with such times or removed keys is rebuilt to fit what it keeps."""
        # A removed key's slot is never kept, even below a cutoff under zero (simulated clocks).
        cutoff = max(cutoff, 0.0)
        for shard in range(SHARDS):
            times = self._times[shard]
            if len(times):
                kept = sum(1 for time in times if time > cutoff)
                if kept != self._used[shard]:  # some expired, or slots of removed keys
                    self._live -= self._live_in(shard) - kept
                    self._rebuild(shard, kept, cutoff)
            yield

    def _live_in(self, shard: int) -> int:
        return sum(1 for time in self._times[shard] if time > 0)

    def _rebuild(self, shard: int, keys_to_hold: int, cutoff: float = 0.0) -> None:
        """The shard anew, sized for `keys_to_hold`, with its keys whose time is after `cutoff`."""
        old_keys, old_times = self._keys[shard], self._times[shard]
        if keys_to_hold == 0:
            self._keys[shard], self._times[shard] = array("q"), array("d")
            self._used[shard] = 0
            return
        size = _size_for(keys_to_hold)
        mask = size - 1
        keys, times = array("q", bytes(8 * size)), array("d", bytes(8 * size))
        used = 0
        for key, time in zip(old_keys, old_times, strict=True):
            if time > cutoff and time > 0:
                slot = (key >> SHARD_BITS) & mask
                while times[slot] != EMPTY:
                    slot = (slot + 1) & mask
                keys[slot], times[slot] = key, time
                used += 1
        self._keys[shard], self._times[shard], self._used[shard] = keys, times, used
