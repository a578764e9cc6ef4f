"""The flat key-hash -> time table behind the memory counters' one-hit keys."""

from __future__ import annotations

import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phoneauth.domain.hit_table import SHARD_BITS, HitTable

# Keys that share a shard and a first slot (they differ above the bits that choose them), so
# probing, removal and slot reuse are exercised, and keys anywhere in the 64-bit range.
crowded = st.integers(0, 7).map(lambda n: (n << 40) | (3 << SHARD_BITS) | 5)
anywhere = st.integers(-(2**63), 2**63 - 1)
times = st.floats(1.0, 1e10, allow_nan=False)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.one_of(crowded, anywhere), times),
        st.tuples(st.just("remove"), st.one_of(crowded, anywhere), st.just(0.0)),
        st.tuples(st.just("sweep"), st.just(0), st.floats(-1e4, 1e10, allow_nan=False)),
    ),
    max_size=200,
)


@given(operations)
@settings(max_examples=300, deadline=None)
def test_the_table_answers_as_a_dict_would(steps: list[tuple[str, int, float]]) -> None:
    table, model = HitTable(), dict[int, float]()
    for operation, key, time in steps:
        if operation == "put":
            table.put(key, time)
            model[key] = time
        elif operation == "remove":
            table.remove(key)
            model.pop(key, None)
        else:
            for _ in table.sweep(time):
                pass
            model = {k: t for k, t in model.items() if t > time}
        assert len(table) == len(model)
        for known in {*model, key}:
            assert table.get(known) == model.get(known)


def test_removed_slots_are_reused_and_the_table_does_not_grow_with_churn() -> None:
    table = HitTable()
    shard_keys = [(n << 20) | 7 for n in range(5)]  # one shard
    for _ in range(10_000):  # keys come and go: the shard stays as small as its five keys
        for key in shard_keys:
            table.put(key, 1.0)
        for key in shard_keys:
            table.remove(key)
    for key in shard_keys:
        table.put(key, 2.0)
    assert [table.get(key) for key in shard_keys] == [2.0] * 5
    assert len(table) == 5
    assert max(len(times) for times in table._times) <= 16


def test_a_key_that_grows_the_table_rebuilds_its_own_shard_only() -> None:
    """A rebuild copies one shard (a few hundred slots at 100,000 keys), so no pause grows with
    the number of keys."""
    table = HitTable()
    rng = random.Random(7)
    for _ in range(20_000):
        table.put(rng.getrandbits(63), 5.0)
    shards = list(table._times)
    grown = 0
    for _ in range(2_000):
        table.put(rng.getrandbits(63), 6.0)
        changed = [i for i, times in enumerate(table._times) if times is not shards[i]]
        assert len(changed) <= 1
        grown += len(changed)
        shards = list(table._times)
    assert grown > 0
    assert max(len(times) for times in table._times) <= 512


def test_a_hundred_thousand_keys_take_a_third_of_what_a_dict_of_them_takes() -> None:
    rng = random.Random(1)
    keys = [rng.getrandbits(64) - 2**63 for _ in range(100_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        table = HitTable()
        for key in keys:
            table.put(key, 1_700_000_000.5)
        in_table = tracemalloc.get_traced_memory()[0] - before
        del table
        before = tracemalloc.get_traced_memory()[0]
        # What the counters held before: a fresh float per hit, the key's hash as an int.
        as_dict = {key + 0: float(key & 1023) + 0.5 for key in keys}
        in_dict = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(as_dict) == 100_000
    assert in_table < 4_500_000  # 45 bytes a key at most
    assert in_table * 3 < in_dict


def test_a_time_is_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        HitTable().put(1, 0.0)
