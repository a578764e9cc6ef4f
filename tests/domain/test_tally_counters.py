"""Tallies (`TallyCounters`): fixed windows that only count, one number per key, in memory, in
Redis (shared by instances) and behind the fallback; the SMS pumping defence counts on them."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from tests.domain.conftest import REDIS_URL
from tests.domain.test_sms_protection import Suspensions

from phoneauth.domain.rate_limit_fallback import FallbackCounters
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.sms_protection import CountrySuspendedError, SmsProtection
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
