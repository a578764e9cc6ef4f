"""Tallies (`TallyCounters`): fixed windows that only count, one number per key, and budgets of
distinct members in a moving window, in memory, in Redis (shared by instances) and behind the
fallback; the SMS pumping defence counts on them."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import coredis
import pytest
from tests.domain.conftest import REDIS_URL, redis_counters
from tests.domain.test_rate_limits import Switchable
from tests.domain.test_sms_protection import Suspensions

from phoneauth.domain.rate_limit_counters import TallyCounters
from phoneauth.domain.rate_limit_fallback import FallbackCounters
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.sms_protection import (
    CountrySuspendedError,
    PrefixRateLimitedError,
    SmsProtection,
)
from phoneauth.domain.tenants import Tenant, TenantKind, TenantSettings
from phoneauth.storage.rate_limit_redis import RedisCounters


async def test_a_memory_tally_counts_until_its_time_from_the_first_count() -> None:
    now = [1000.0]
    counters = MemoryCounters(clock=lambda: now[0])
    assert await counters.tally("day") == 0
    assert [await counters.add("day", 60) for _ in range(3)] == [1, 2, 3]
    now[0] += 59
    assert await counters.add("day", 60) == 4  # the window runs from the first count
    now[0] += 1
    assert await counters.tally("day") == 0
    assert await counters.add("day", 60) == 1
    await counters.sweep(now[0] + 61)
    assert counters.tallies == {}


async def test_instances_sharing_redis_share_their_tallies_which_expire() -> None:
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    first, second = (RedisCounters(REDIS_URL, key_prefix=prefix) for _ in range(2))
    try:
        assert await first.add("day", 60) == 1
        assert await second.add("day", 60) == 2
        assert await first.tally("day") == 2
        assert await first.tally("other") == 0
        # Forgotten 60 s after the first count (Redis's own expiry: limits' storage API).
        assert 0 < await first.storage.get_expiry("TALLY/day") - time.time() <= 60
    finally:
        await first.reset()
        await first.close()
        await second.close()


async def test_behind_the_fallback_an_unreachable_redis_tallies_in_memory(
    closed_port: int,
) -> None:
    counters = FallbackCounters(RedisCounters(f"redis://127.0.0.1:{closed_port}"))
    try:
        assert await counters.add("day", 60) == 1
        assert await counters.add("day", 60) == 2
        assert await counters.tally("day") == 2
        assert counters.degraded
    finally:
        await counters.close()


async def test_two_instances_with_redis_judge_a_country_together() -> None:
    """The conversion watch's counts are shared: 10 unverified sends on each of two instances
    suspend the country on both (as 20 on one would)."""
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    clock = lambda: datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # noqa: E731
    store = Suspensions()  # the database both instances share
    first, second = (
        SmsProtection(
            RedisCounters(REDIS_URL, key_prefix=prefix), store, hash_key=b"k" * 32, clock=clock
        )
        for _ in range(2)
    )
    settings = TenantSettings.model_validate({"smsProtection": {"prefixLimit": 0}})
    tenant = Tenant("t1", "t1", TenantKind.DEVELOPMENT, settings, clock())
    try:
        for index in range(10):
            await first.check(tenant, f"+3712500{index:04d}", leaves=True)
            await second.check(tenant, f"+3712600{index:04d}", leaves=True)
        for instance in (first, second):
            try:
                await instance.check(tenant, "+37125123456", leaves=True)
            except CountrySuspendedError:
                continue
            raise AssertionError("not suspended")
        assert (await first.state(tenant)).messages == 20
    finally:
        await first.counters.reset()
        await first.counters.close()
        await second.counters.close()


async def test_two_instances_with_redis_share_a_prefix_budget() -> None:
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    clock = lambda: datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # noqa: E731
    first, second = (
        SmsProtection(
            RedisCounters(REDIS_URL, key_prefix=prefix, clock=lambda: clock().timestamp()),
            Suspensions(),
            hash_key=b"k" * 32,
            clock=clock,
        )
        for _ in range(2)
    )
    settings = TenantSettings.model_validate({"smsProtection": {"prefixLimit": 2}})
    tenant = Tenant("t1", "t1", TenantKind.DEVELOPMENT, settings, clock())
    try:
        await first.check(tenant, "+4915112345001", leaves=True)
        await second.check(tenant, "+4915112345002", leaves=True)
        await second.check(tenant, "+4915112345001", leaves=True)  # counted once, on either
        with pytest.raises(PrefixRateLimitedError) as refused:
            await first.check(tenant, "+4915112345003", leaves=True)
        assert refused.value.details == {"retry_after": 3600}
    finally:
        await first.counters.reset()
        await first.counters.close()
        await second.counters.close()


# --- distinct members in a moving window (`admit_distinct`) ------------------------------------


class Clock:
    """One simulated clock for the counters and the test (Redis gets the time from its caller)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis", "redis-with-fallback"])
async def distinct(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[TallyCounters]:
    """The same cases on process memory, on Redis and on Redis with memory behind it."""
    counters: TallyCounters
    if request.param == "memory":
        counters = MemoryCounters(clock=clock)
    elif request.param == "redis":
        counters = RedisCounters(REDIS_URL, key_prefix=redis_counters().key_prefix, clock=clock)
    else:
        shared = RedisCounters(REDIS_URL, key_prefix=redis_counters().key_prefix, clock=clock)
        counters = FallbackCounters(shared, MemoryCounters(clock=clock))
    try:
        yield counters
    finally:
        await counters.reset()
        await counters.close()


async def test_a_member_counts_once_until_its_time_from_its_first_admission(
    distinct: TallyCounters, clock: Clock
) -> None:
    admit = distinct.admit_distinct
    assert await admit("prefix", "001", 3, 60) is None  # at 1000
    clock.now += 10
    assert await admit("prefix", "002", 3, 60) is None  # at 1010
    assert await admit("prefix", "001", 3, 60) is None  # again: not counted again
    clock.now += 10
    assert await admit("prefix", "003", 3, 60) is None  # at 1020: the third
    assert await admit("prefix", "004", 3, 60) == 1060.0  # full: room when 001 leaves
    assert await admit("prefix", "002", 3, 60) is None  # the admitted ones still are
    clock.now = 1059.5
    assert await admit("prefix", "004", 3, 60) == 1060.0
    clock.now = 1060.0  # 001 leaves (asking again never moved its time)
    assert await admit("prefix", "004", 3, 60) is None
    assert await admit("prefix", "001", 3, 60) == 1070.0  # new again, and the budget is full


async def test_a_refused_member_is_not_recorded(distinct: TallyCounters, clock: Clock) -> None:
    admit = distinct.admit_distinct
    assert await admit("prefix", "a", 2, 60) is None  # at 1000
    clock.now += 30
    assert await admit("prefix", "b", 2, 60) is None  # at 1030
    clock.now += 10
    assert await admit("prefix", "c", 2, 60) == 1060.0
    clock.now = 1060.0  # a left; had c been recorded at 1040, d would be refused
    assert await admit("prefix", "d", 2, 60) is None
    assert await admit("prefix", "c", 2, 60) == 1090.0  # b leaves first


async def test_when_more_members_than_the_limit_are_held_room_frees_as_enough_leave(
    distinct: TallyCounters, clock: Clock
) -> None:
    """A limit lowered while its members count: room is when the limit-th newest leaves."""
    for minute, member in enumerate("abcde"):
        clock.now = 1000.0 + minute
        assert await distinct.admit_distinct("prefix", member, 5, 60) is None
    assert await distinct.admit_distinct("prefix", "f", 2, 60) == 1063.0  # d, e are left then


async def test_a_concurrent_burst_of_distinct_members_admits_exactly_the_limit(
    distinct: TallyCounters,
) -> None:
    answers = await asyncio.gather(
        *(distinct.admit_distinct("prefix", f"{n:03d}", 10, 60) for n in range(50))
    )
    assert answers.count(None) == 10
    assert set(answers) == {None, 1060.0}
    admitted = [f"{n:03d}" for n, answer in enumerate(answers) if answer is None]
    again = [await distinct.admit_distinct("prefix", m, 10, 60) for m in admitted]
    assert again == [None] * 10  # each was recorded once


async def test_keys_keep_their_own_members(distinct: TallyCounters) -> None:
    assert await distinct.admit_distinct("one", "a", 1, 60) is None
    assert await distinct.admit_distinct("one", "b", 1, 60) == 1060.0
    assert await distinct.admit_distinct("two", "b", 1, 60) is None
    assert await distinct.admit_distinct("two", "a", 1, 60) == 1060.0


async def test_many_members_in_memory_are_forgotten_as_they_leave_and_swept() -> None:
    """Past a few members a key holds a dict; expired members leave it as the key is used, and
    the sweep forgets keys whose every member left. Nothing the garbage collector walks."""
    now = [1000.0]
    counters = MemoryCounters(clock=lambda: now[0])
    assert await counters.admit_distinct("quiet", "1", 1000, 60) is None  # leaves at 1060
    for n in range(100):
        now[0] += 1
        assert await counters.admit_distinct("busy", f"{n:03d}", 1000, 60) is None
    await counters.close()
    assert len(counters.distinct[hash("busy")]) == 60  # at 1100: the members of 1041 to 1100
    gc.collect()  # a tuple of strings and floats is untracked by the collector's first pass
    assert not any(gc.is_tracked(held) for held in counters.distinct.values())
    assert counters.holds_member("busy", "099")
    assert not counters.holds_member("busy", "039")
    assert counters.distinct_frees_at("busy", 60) == 1101.0
    assert counters.distinct_frees_at("busy", 61) is None
    await counters.sweep(now[0] + 59)
    assert list(counters.distinct) == [hash("busy")]
    await counters.sweep(now[0] + 60)
    assert counters.distinct == {}


async def test_a_key_in_memory_that_shrinks_to_a_few_members_holds_them_in_a_tuple_again() -> None:
    now = [1000.0]
    counters = MemoryCounters(clock=lambda: now[0])
    for n in range(20):
        now[0] = 1000.0 + n
        assert await counters.admit_distinct("k", str(n), 20, 60) is None
    assert isinstance(counters.distinct[hash("k")], dict)
    now[0] = 1075.0  # 0 to 15 have left
    assert await counters.admit_distinct("k", "19", 5, 60) is None  # still counted
    assert counters.distinct[hash("k")] == ("16", 1076.0, "17", 1077.0, "18", 1078.0, "19", 1079.0)
    assert await counters.admit_distinct("k", "new", 5, 60) is None
    assert await counters.admit_distinct("k", "newer", 5, 60) == 1076.0
    await counters.close()


async def test_redis_keeps_a_sorted_set_per_key_that_expires_with_its_newest_member() -> None:
    counters = redis_counters()
    client = coredis.Redis.from_url(REDIS_URL)
    try:
        assert await counters.admit_distinct("sms-prefix/t1/60/abc", "123", 10, 60) is None
        key = f"{counters.key_prefix}:DISTINCT/sms-prefix/t1/60/abc"
        [(member, admitted)] = await client.zrange(key, 0, -1, withscores=True)
        assert member == b"123"
        assert admitted == pytest.approx(time.time(), abs=5)
        assert 0 < await client.ttl(key) <= 60
    finally:
        await counters.reset()
        await counters.close()


async def test_what_memory_admitted_during_an_outage_still_counts_once_redis_is_back() -> None:
    now = [1000.0]
    shared = Switchable(clock=lambda: now[0])
    local = MemoryCounters(clock=lambda: now[0])
    counters = FallbackCounters(shared, local, retry_seconds=1.0, clock=lambda: now[0])
    shared.down = True
    assert await counters.admit_distinct("prefix", "a", 2, 60) is None  # in memory
    assert counters.degraded
    now[0] += 1.0
    shared.down = False
    assert await counters.check()
    assert await counters.admit_distinct("prefix", "a", 2, 60) is None  # counted once, here
    assert await counters.admit_distinct("prefix", "b", 2, 60) is None  # shared
    assert await counters.admit_distinct("prefix", "c", 2, 60) is None  # shared: 2 there
    assert await counters.admit_distinct("other", "x", 1, 60) is None
    shared.down = True
    now[0] += 1.0
    assert await counters.admit_distinct("other", "y", 1, 60) is None  # memory: its own budget
    now[0] += 1.0
    shared.down = False
    assert await counters.check()
    assert await counters.admit_distinct("other", "z", 1, 60) == 1062.0  # filled in memory
    assert not shared.holds_member("other", "z")  # and not recorded where it is shared
    await counters.close()


async def test_behind_the_fallback_an_unreachable_redis_admits_in_memory(
    closed_port: int,
) -> None:
    counters = FallbackCounters(RedisCounters(f"redis://127.0.0.1:{closed_port}"))
    try:
        assert await counters.admit_distinct("prefix", "a", 1, 60) is None
        assert await counters.admit_distinct("prefix", "a", 1, 60) is None
        assert await counters.admit_distinct("prefix", "b", 1, 60) is not None
        assert counters.degraded
    finally:
        await counters.close()
