"""Send budgets and the verification lock, on memory counters and on the real Redis."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
import uuid
from array import array
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import coredis
import pytest
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.storage import memory as limits_memory
from limits.aio.strategies import MovingWindowRateLimiter
from tests.domain.conftest import REDIS_URL

from phoneauth.crypto import keyed_hash
from phoneauth.domain.rate_limit_counters import (
    CountersUnavailableError,
    RateLimitCounters,
    Window,
)
from phoneauth.domain.rate_limit_fallback import FallbackCounters
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.rate_limits import (
    CountersUnreachableError,
    CountryRateLimitedError,
    IpRateLimitedError,
    MessageRateLimitedError,
    RateLimitedError,
    RateLimits,
    VerificationBlockedError,
)
from phoneauth.domain.tenants import Tenant, TenantKind, TenantSettings
from phoneauth.storage.rate_limit_redis import RedisCounters

DE_1, DE_2, DE_3 = "+4915112345678", "+4915187654321", "+4915100000001"
US = "+14155550100"
HASH_KEY = b"k" * 32


def tenant(tenant_id: str = "t1", **limits: int) -> Tenant:
    settings = TenantSettings.model_validate({"rateLimits": limits})
    return Tenant(tenant_id, tenant_id, TenantKind.DEVELOPMENT, settings, datetime.now(UTC))


@pytest.fixture
def limits(counters: RateLimitCounters) -> RateLimits:
    return RateLimits(counters, hash_key=HASH_KEY)


async def refused(call: object) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as info:
        await call  # type: ignore[misc]
    return info.value


# --- the memory counters ------------------------------------------------------------------------


async def test_memory_counters_are_swept_once_in_a_while_not_after_every_hit() -> None:
    counters = MemoryCounters()
    limits = RateLimits(counters, hash_key=HASH_KEY)
    try:
        for number in range(100):
            await limits.acquire_send(tenant(), f"+49151{number:08d}")
        sweep = counters.sweeping
        assert sweep is not None
        await sweep
        await limits.acquire_send(tenant(), DE_1)
        assert counters.sweeping is sweep  # no new sweep after every hit: a busy loop, many keys
        assert sum(len(window) for window in counters.windows.values()) > 100

        await counters.sweep(now=time.time() + 86_400)

        assert all(len(window) == 0 for window in counters.windows.values())
        await limits.acquire_send(tenant(), DE_1)  # counting starts afresh
    finally:
        await limits.close()


async def test_a_sweep_hands_the_loop_back_between_batches() -> None:
    counters = MemoryCounters()
    counters.sweep_batch = 10
    for number in range(100):
        await counters.acquire([Window(f"k{number}", 5, 60)])
    await counters.close()  # the sweep the first hit started; this test runs its own
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counting = asyncio.create_task(count_turns())
    await counters.sweep(now=time.time() + 3_600)
    counting.cancel()
    assert len(counters.windows[60, 5]) == 0
    assert turns >= 100 // 10 - 1  # other tasks ran while the 100 keys were swept


async def test_memory_counters_hold_nothing_the_garbage_collector_walks() -> None:
    """Full GC passes over a few hundred thousand entry objects set verify's p99 (`make bench`):
    a key with a few hits holds floats and tuples of floats, which the collector does not track."""
    counters = MemoryCounters()
    limits = RateLimits(counters, hash_key=HASH_KEY)
    busy = tenant(ipLimit=1000, countryLimit=1000)
    for number in range(20):
        await limits.acquire_send(busy, f"+49151{number:08d}", "203.0.113.9")
    await limits.acquire_send(busy, f"+49151{0:08d}", "203.0.113.9")  # that number's 2nd code
    await limits.close()
    gc.collect()
    windows = counters.windows.values()
    held = [times for window in windows for times in window.more.values()]
    # a key per number (19 hit once, in the flat table), the address, the calling code
    assert sum(len(window.once) for window in windows) == 19
    assert sorted(len(times) for times in held) == [2, 21, 21]
    assert not any(gc.is_tracked(times) for times in held)
    assert not any(gc.is_tracked(window.more) for window in windows)


async def test_a_busy_key_keeps_only_the_times_inside_its_window() -> None:
    now = [1_000.25]
    counters = MemoryCounters(clock=lambda: now[0])
    busy = Window("ip", 1_000, 1)
    for _ in range(10_000):  # ten thousand hits, one every 10 ms, on a 1 s window
        assert await counters.acquire([busy]) is None
        now[0] += 0.01
    await counters.close()
    held = counters.windows[1, 1_000].times(hash("ip"))
    assert isinstance(held, array)
    assert len(held) <= 2 * 100  # the window holds 100; expired times are cut as it is used
    hits, frees_at = await counters.usage(busy)
    assert (hits, frees_at) == (100, pytest.approx(now[0]))

    await counters.sweep()

    assert len(counters.windows[1, 1_000].times(hash("ip")) or ()) == 100


async def test_memory_counters_agree_with_limits_own_memory_storage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same random hits and questions, on a fake clock, get the same answers from limits'
    moving window on its memory storage (public API; only its clock is replaced)."""
    now = [5_000.123]
    monkeypatch.setattr(limits_memory.time, "time", lambda: now[0])
    ours, theirs = MemoryCounters(clock=lambda: now[0]), MemoryStorage()
    oracle = MovingWindowRateLimiter(theirs)
    randomness = random.Random(7)
    for _ in range(3_000):
        key = randomness.choice(["a", "b", "c"])
        limit, seconds = randomness.choice([(3, 10), (5, 30), (40, 3000)])  # 40: arrays too
        window, item = Window(key, limit, seconds), RateLimitItemPerSecond(limit, seconds)
        if randomness.random() < 0.5:
            assert (await ours.acquire([window]) is None) == await oracle.hit(item, key)
        else:
            hits, frees_at = await ours.usage(window)
            stats = await oracle.get_window_stats(item, key)
            assert hits == limit - stats.remaining
            if hits:  # with none, limits' reset time is that of some long-expired hit
                assert frees_at == stats.reset_time
        now[0] += randomness.choice([0.013, 0.5, 1.7, 6.1])
    await ours.close()
    await theirs.reset()


async def test_a_lock_runs_out_and_the_failure_count_starts_over() -> None:
    now = [10_000.0]
    counters = MemoryCounters(clock=lambda: now[0])
    failures, lock = Window("failures", 3, 300), Window("lock", 1, 300)
    assert [await counters.record_failure(failures, lock) for _ in range(3)] == [
        False,
        False,
        True,
    ]
    assert (await counters.usage(lock))[0] == 1
    assert (await counters.usage(failures))[0] == 0  # cleared by the lock
    now[0] += 301
    assert (await counters.usage(lock))[0] == 0
    assert not await counters.record_failure(failures, lock)
    assert not await counters.record_failure(failures, lock)
    await counters.close()


# --- the same rules over every implementation ---------------------------------------------------


async def test_counters_report_that_they_can_be_reached(limits: RateLimits) -> None:
    assert await limits.check()


async def test_a_concurrent_burst_of_sends_never_overshoots_a_budget(limits: RateLimits) -> None:
    small = tenant(recipientLimit=5)
    results = await asyncio.gather(
        *(limits.acquire_send(small, DE_1) for _ in range(20)), return_exceptions=True
    )
    assert results.count(None) == 5
    assert all(isinstance(r, MessageRateLimitedError) for r in results if r is not None)


async def test_a_refused_send_tells_when_the_oldest_hit_leaves_the_window(
    limits: RateLimits,
) -> None:
    small = tenant(recipientLimit=1, recipientWindowSeconds=60)
    await limits.acquire_send(small, DE_1)
    await asyncio.sleep(1.1)
    error = await refused(limits.acquire_send(small, DE_1))
    assert 58 <= error.retry_after <= 59


async def test_the_recipient_budget_is_logtos_ten_per_ten_minutes_by_default(
    limits: RateLimits,
) -> None:
    default = tenant()
    for _ in range(10):
        await limits.acquire_send(default, DE_1)
    error = await refused(limits.acquire_send(default, DE_1))
    assert isinstance(error, MessageRateLimitedError)
    assert error.code == "request.message_rate_limited"
    assert error.status == 429
    assert 595 <= error.retry_after <= 600
    assert error.details == {"retry_after": error.retry_after}
    await limits.acquire_send(default, DE_2)


async def test_the_recipient_budget_is_a_tenant_setting(limits: RateLimits) -> None:
    small = tenant(recipientLimit=2, recipientWindowSeconds=120)
    await limits.acquire_send(small, DE_1)
    await limits.acquire_send(small, DE_1)
    error = await refused(limits.acquire_send(small, DE_1))
    assert isinstance(error, MessageRateLimitedError)
    assert 115 <= error.retry_after <= 120


async def test_the_ip_budget_counts_sends_from_one_address(limits: RateLimits) -> None:
    small = tenant(ipLimit=2)
    await limits.acquire_send(small, DE_1, "203.0.113.9")
    await limits.acquire_send(small, DE_2, "203.0.113.9")
    error = await refused(limits.acquire_send(small, DE_3, "203.0.113.9"))
    assert isinstance(error, IpRateLimitedError)
    assert error.code == "request.ip_rate_limited"
    await limits.acquire_send(small, DE_3, "2001:db8::1")
    await limits.acquire_send(small, DE_3)  # no address known: only the other budgets apply


async def test_the_country_budget_counts_sends_per_calling_code(limits: RateLimits) -> None:
    small = tenant(countryLimit=2)
    await limits.acquire_send(small, DE_1)
    await limits.acquire_send(small, DE_2)
    error = await refused(limits.acquire_send(small, DE_3))
    assert isinstance(error, CountryRateLimitedError)
    assert error.code == "request.country_rate_limited"
    await limits.acquire_send(small, US)


async def test_a_refused_send_counts_against_no_budget(limits: RateLimits) -> None:
    small = tenant(recipientLimit=1, ipLimit=2)
    await limits.acquire_send(small, DE_1, "203.0.113.9")
    for _ in range(5):
        assert isinstance(
            await refused(limits.acquire_send(small, DE_1, "203.0.113.9")), MessageRateLimitedError
        )
    await limits.acquire_send(small, DE_2, "203.0.113.9")  # the IP budget still had room for one
    assert isinstance(
        await refused(limits.acquire_send(small, DE_3, "203.0.113.9")), IpRateLimitedError
    )


async def test_budgets_are_per_tenant(limits: RateLimits) -> None:
    one, two = tenant("one", recipientLimit=1), tenant("two", recipientLimit=1)
    await limits.acquire_send(one, DE_1)
    await refused(limits.acquire_send(one, DE_1))
    await limits.acquire_send(two, DE_1)


async def test_the_limit_th_wrong_code_locks_the_number_for_the_lockout_time(
    limits: RateLimits,
) -> None:
    strict = tenant(failedVerificationLimit=3, lockoutSeconds=300)
    await limits.ensure_not_locked(strict, DE_1)
    assert [await limits.record_failed_verification(strict, DE_1) for _ in range(3)] == [
        False,
        False,
        True,
    ]
    error = await refused(limits.ensure_not_locked(strict, DE_1))
    assert isinstance(error, VerificationBlockedError)
    assert error.code == "session.verification_blocked_too_many_attempts"
    assert 295 <= error.retry_after <= 300
    await limits.ensure_not_locked(strict, DE_2)
    await limits.ensure_not_locked(tenant("t2", failedVerificationLimit=3), DE_1)


async def test_a_locked_number_gets_no_send_and_spends_no_budget(limits: RateLimits) -> None:
    strict = tenant(failedVerificationLimit=1, lockoutSeconds=300, recipientLimit=1, ipLimit=1)
    assert await limits.record_failed_verification(strict, DE_1)
    for _ in range(3):
        error = await refused(limits.acquire_send(strict, DE_1, "203.0.113.9"))
        assert isinstance(error, VerificationBlockedError)
        assert 295 <= error.retry_after <= 300
    await limits.acquire_send(strict, DE_2, "203.0.113.9")  # the address's one send was unspent


# --- Redis only: sharing, faults, keys ----------------------------------------------------------


async def test_instances_sharing_redis_share_their_counters() -> None:
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    first = RateLimits(RedisCounters(REDIS_URL, key_prefix=prefix), hash_key=HASH_KEY)
    second = RateLimits(RedisCounters(REDIS_URL, key_prefix=prefix), hash_key=HASH_KEY)
    small = tenant(recipientLimit=2)
    try:
        await first.acquire_send(small, DE_1)
        await second.acquire_send(small, DE_1)
        assert isinstance(await refused(first.acquire_send(small, DE_1)), MessageRateLimitedError)
        assert isinstance(await refused(second.acquire_send(small, DE_1)), MessageRateLimitedError)
    finally:
        await first.counters.reset()
        await first.close()
        await second.close()


async def test_unreachable_counters_without_a_fallback_refuse_with_503_never_let_through(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    down = RateLimits(RedisCounters(f"redis://127.0.0.1:{closed_port}"), hash_key=HASH_KEY)
    small = tenant(recipientLimit=1, failedVerificationLimit=1)
    try:
        for call in (
            down.acquire_send(small, DE_1, "203.0.113.9"),
            down.record_failed_verification(small, DE_1),
            down.ensure_not_locked(small, DE_1),
        ):
            with pytest.raises(CountersUnreachableError) as info:
                await call
            assert (info.value.status, info.value.code) == (503, "server.unavailable")
            assert info.value.details == {"retry_after": 5}
        assert not await down.check()
    finally:
        await down.close()
    assert all(DE_1 not in r.getMessage() for r in caplog.records)


# --- Redis down: the fallback to process memory -------------------------------------------------


class Switchable(MemoryCounters):
    """Counters standing in for Redis: `down` makes every call fail as an outage does."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.down = False
        self.calls = 0

    def _reach(self) -> None:
        self.calls += 1
        if self.down:
            raise CountersUnavailableError("Error 111 connecting to 127.0.0.1:6390")

    async def acquire(self, windows: Sequence[Window]) -> int | None:
        self._reach()
        return await super().acquire(windows)

    async def usage(self, window: Window) -> tuple[int, float]:
        self._reach()
        return await super().usage(window)

    async def record_failure(self, failures: Window, lock: Window) -> bool:
        self._reach()
        return await super().record_failure(failures, lock)

    async def admit_distinct(self, key: str, member: str, limit: int, seconds: int) -> float | None:
        self._reach()
        return await super().admit_distinct(key, member, limit, seconds)

    async def check(self) -> bool:
        self._reach()
        return True


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_with_redis_unreachable_a_burst_is_counted_in_memory_with_one_warning(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    counters = FallbackCounters(RedisCounters(f"redis://127.0.0.1:{closed_port}"))
    limits = RateLimits(counters, hash_key=HASH_KEY)
    small = tenant(recipientLimit=3, failedVerificationLimit=2, lockoutSeconds=60)
    try:
        results = await asyncio.gather(
            *(limits.acquire_send(small, DE_1) for _ in range(200)), return_exceptions=True
        )
        assert results.count(None) == 3
        assert all(isinstance(r, MessageRateLimitedError) for r in results if r is not None)
        assert [await limits.record_failed_verification(small, DE_2) for _ in range(2)] == [
            False,
            True,
        ]
        assert isinstance(
            await refused(limits.ensure_not_locked(small, DE_2)), VerificationBlockedError
        )
        assert counters.degraded
        assert not await limits.check()
    finally:
        await limits.close()
    [warning] = warnings_of(caplog)
    assert "counting in this process's memory" in warning
    assert "127.0.0.1" not in warning  # the store's error text (its URL) is not logged


async def test_the_shared_counters_are_retried_once_per_interval_then_shared_again() -> None:
    now = [100.0]
    shared = Switchable()
    counters = FallbackCounters(shared, retry_seconds=1.0, clock=lambda: now[0])
    window = Window("k", 2, 600)
    shared.down = True
    assert await counters.acquire([window]) is None  # tried, failed: memory
    calls = shared.calls
    for _ in range(5):
        await counters.acquire([window])
    assert shared.calls == calls  # not asked again within the interval
    now[0] += 1.0
    shared.down = False
    assert await counters.acquire([Window("other", 2, 600)]) is None  # asked: back
    assert not counters.degraded
    assert shared.calls == calls + 1
    assert (await counters.usage(Window("other", 2, 600)))[0] == 1  # counted where it is shared
    await counters.close()


async def test_what_memory_counted_during_an_outage_still_counts_once_redis_is_back() -> None:
    now = [100.0]
    shared = Switchable()
    counters = FallbackCounters(shared, retry_seconds=1.0, clock=lambda: now[0])
    failures, lock, budget = Window("f", 1, 600), Window("lock", 1, 600), Window("b", 2, 600)
    shared.down = True
    assert await counters.record_failure(failures, lock)  # locked during the outage
    assert await counters.acquire([budget]) is None
    assert await counters.acquire([budget]) is None
    assert await counters.acquire([budget]) == 0  # full, in memory
    now[0] += 1.0
    shared.down = False
    assert await counters.check()
    assert not counters.degraded
    assert (await counters.usage(lock))[0] == 1  # the lock outlives the outage
    assert await counters.acquire([budget]) == 0  # so does the spent budget
    assert await shared.usage(budget) == (0, pytest.approx(time.time() + 600, abs=5))
    await counters.close()


async def test_outage_era_counts_are_swept_once_their_windows_end() -> None:
    now = [1_000.0]
    shared = Switchable()
    local = MemoryCounters(clock=lambda: now[0])
    local.sweep_seconds = 0.0
    counters = FallbackCounters(shared, local, retry_seconds=1.0, clock=lambda: now[0])
    shared.down = True
    await counters.acquire([Window("k", 5, 60)])
    assert local.sweeping is not None
    await local.sweeping
    shared.down = False
    now[0] += 61
    assert await counters.acquire([Window("k", 5, 60)]) is None  # shared again
    assert local.sweeping is not None
    await local.sweeping
    assert not any(local.windows.values())
    await counters.close()


async def test_one_line_when_redis_goes_and_one_when_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    shared = Switchable()
    counters = FallbackCounters(shared, retry_seconds=1.0, clock=lambda: now[0])
    shared.down = True
    for _ in range(3):
        for _ in range(10):
            await counters.acquire([Window("k", 1000, 600)])
        now[0] += 1.0
    assert counters.counted_locally == 30
    shared.down = False
    await counters.acquire([Window("k", 1000, 600)])
    await counters.acquire([Window("k", 1000, 600)])
    await counters.close()
    went, back = warnings_of(caplog)
    assert "unreachable (CountersUnavailableError)" in went
    assert "back after 3.0 s (30 calls counted in memory" in back
    assert all("6390" not in line for line in (went, back))


async def test_a_call_begun_before_the_outage_was_noticed_does_not_end_it() -> None:
    now = [100.0]
    entered, finish = asyncio.Event(), asyncio.Event()

    class Slow(Switchable):
        async def usage(self, window: Window) -> tuple[int, float]:
            entered.set()
            await finish.wait()
            return (0, 0.0)

    shared = Slow()
    counters = FallbackCounters(shared, retry_seconds=1.0, clock=lambda: now[0])
    slow = asyncio.create_task(counters.usage(Window("k", 1, 60)))
    await entered.wait()
    now[0] += 0.5
    shared.down = True
    await counters.acquire([Window("k", 1, 60)])  # fails: the outage starts now
    finish.set()
    await slow  # began before the outage: its success says nothing about Redis now
    assert counters.degraded
    await counters.close()


async def _redis_keys(prefix: str) -> list[str]:
    client = coredis.Redis.from_url(REDIS_URL, decode_responses=True)
    return sorted(await client.keys(f"{prefix}:*"))


async def test_redis_keys_are_limits_own_naming_the_tenant_and_never_the_phone_number() -> None:
    """The key scheme of every earlier release, so an upgraded deployment keeps its counters."""
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    limits = RateLimits(RedisCounters(REDIS_URL, key_prefix=prefix), hash_key=HASH_KEY)
    try:
        await limits.acquire_send(tenant("acme"), DE_1, "203.0.113.9")
        keys = await _redis_keys(prefix)
    finally:
        await limits.counters.reset()
        await limits.close()
    number = keyed_hash(HASH_KEY, DE_1)[:32]
    assert keys == [
        f"{prefix}:LIMITER/send-country/acme/49/1000/3600/second",
        f"{prefix}:LIMITER/send-ip/acme/203.0.113.9/30/600/second",
        f"{prefix}:LIMITER/send-recipient/acme/{number}/10/600/second",
    ]
    assert not any(DE_1.lstrip("+") in key for key in keys)


async def test_counters_written_before_this_release_still_count() -> None:
    """Hits made the old way (limits' strategy, the key parts as identifiers) spend the budget."""
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    pool = coredis.ConnectionPool.from_url(REDIS_URL)
    old = MovingWindowRateLimiter(
        RedisStorage(f"async+{REDIS_URL}", key_prefix=prefix, connection_pool=pool)  # type: ignore[arg-type]
    )
    number = keyed_hash(HASH_KEY, DE_1)[:32]
    limits = RateLimits(RedisCounters(REDIS_URL, key_prefix=prefix), hash_key=HASH_KEY)
    try:
        for _ in range(2):
            assert await old.hit(RateLimitItemPerSecond(2, 600), "send-recipient", "acme", number)
        error = await refused(limits.acquire_send(tenant("acme", recipientLimit=2), DE_1))
        assert isinstance(error, MessageRateLimitedError)
    finally:
        await limits.counters.reset()
        await limits.close()
        pool.disconnect()
