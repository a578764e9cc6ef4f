"""Send budgets and the verification lock, on memory storage and on the real Redis."""

from __future__ import annotations

import gc
import logging
import random
import time
import uuid
from array import array
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage import memory as limits_memory

from phoneauth.domain.rate_limit_memory import CompactMemoryStorage
from phoneauth.domain.rate_limits import (
    CountryRateLimitedError,
    IpRateLimitedError,
    MessageRateLimitedError,
    RateLimitedError,
    RateLimits,
    VerificationBlockedError,
    build_rate_limit_storage,
)
from phoneauth.domain.tenants import Tenant, TenantKind, TenantSettings

REDIS_URL = "redis://127.0.0.1:6379"
DE_1, DE_2, DE_3 = "+4915112345678", "+4915187654321", "+4915100000001"
US = "+14155550100"


def tenant(tenant_id: str = "t1", **limits: int) -> Tenant:
    settings = TenantSettings.model_validate({"rateLimits": limits})
    return Tenant(tenant_id, tenant_id, TenantKind.DEVELOPMENT, settings, datetime.now(UTC))


@pytest.fixture(params=["memory", "redis"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    """Each test runs on both; Redis keys get a prefix of their own, deleted afterwards."""
    if request.param == "memory":
        yield build_rate_limit_storage(None)
        return
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    redis = build_rate_limit_storage(REDIS_URL, key_prefix=prefix)
    assert isinstance(redis, RedisStorage)
    yield redis
    await redis.reset()
    await RateLimits(redis, hash_key=b"k").close()


@pytest.fixture
def limits(storage: Storage) -> RateLimits:
    return RateLimits(storage, hash_key=b"k" * 32)


async def refused(call: object) -> RateLimitedError:
    with pytest.raises(RateLimitedError) as info:
        await call  # type: ignore[misc]
    return info.value


def test_the_url_picks_the_storage() -> None:
    assert isinstance(build_rate_limit_storage(None), MemoryStorage)
    assert isinstance(build_rate_limit_storage("redis://127.0.0.1:6379/0"), RedisStorage)


async def test_memory_counters_are_swept_once_in_a_while_not_after_every_hit() -> None:
    storage = build_rate_limit_storage(None)
    assert isinstance(storage, CompactMemoryStorage)
    limits = RateLimits(storage, hash_key=b"k" * 32)
    try:
        for number in range(100):
            await limits.acquire_send(tenant(), f"+49151{number:08d}")
        sweep = storage.timer
        assert sweep is not None
        await sweep
        await limits.acquire_send(tenant(), DE_1)
        assert storage.timer is sweep  # no new sweep after every hit: a busy loop with many keys
        assert sum(len(window) for window in storage.windows.values()) > 100
        assert not storage.locks  # no lock per key (nothing in there awaits)

        await storage.sweep(now=time.time() + 86_400)

        assert all(window == {} for window in storage.windows.values())
        await limits.acquire_send(tenant(), DE_1)  # counting starts afresh
    finally:
        await limits.close()


async def test_memory_counters_hold_nothing_the_garbage_collector_walks() -> None:
    """Full GC passes over a few hundred thousand entry objects set verify's p99 (`make bench`):
    a key with a few hits holds floats and tuples of floats, which the collector does not track."""
    storage = CompactMemoryStorage()
    limits = RateLimits(storage, hash_key=b"k" * 32)
    busy = tenant(ipLimit=1000, countryLimit=1000)
    for number in range(20):
        await limits.acquire_send(busy, f"+49151{number:08d}", "203.0.113.9")
    await limits.acquire_send(busy, f"+49151{0:08d}", "203.0.113.9")  # that number's 2nd code
    gc.collect()
    held = [value for window in storage.windows.values() for value in window.values()]
    assert len(held) == 20 + 1 + 1  # a key per number, the address and the calling code
    assert sorted(1 if isinstance(value, float) else len(value) for value in held) == (
        [1] * 19 + [2, 21, 21]
    )
    assert not any(gc.is_tracked(value) for value in held)
    assert not any(gc.is_tracked(window) for window in storage.windows.values())
    assert storage.timer is not None
    storage.timer.cancel()


async def test_a_busy_key_keeps_only_the_times_inside_its_window() -> None:
    storage = CompactMemoryStorage()
    now = [1_000.25]
    storage.clock = lambda: now[0]
    for _ in range(10_000):  # ten thousand hits, one every 10 ms, on a 1 s window
        assert await storage.acquire_entry("ip", 1_000, 1)
        now[0] += 0.01
    held = storage.windows[1]["ip"]
    assert isinstance(held, array)
    assert len(held) <= 2 * 100  # the window holds 100; expired times are cut as it is used
    assert await storage.get_moving_window("ip", 1_000, 1) == (pytest.approx(now[0] - 1), 100)

    await storage.sweep()

    assert len(storage.windows[1]["ip"]) == 100
    assert storage.timer is not None
    storage.timer.cancel()


async def test_memory_counters_agree_with_limits_own_memory_storage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same random hits and tests, on a fake clock, give the same answers."""
    now = [5_000.123]
    monkeypatch.setattr(limits_memory.time, "time", lambda: now[0])
    ours, theirs = CompactMemoryStorage(), MemoryStorage()
    ours.clock = lambda: now[0]
    randomness = random.Random(7)
    for _ in range(3_000):
        key = randomness.choice(["a", "b", "c"])
        limit, expiry = randomness.choice([(3, 10), (5, 30), (40, 3000)])  # 40: arrays too
        amount = randomness.choice([1, 1, 2])
        if randomness.random() < 0.5:
            assert await ours.acquire_entry(key, limit, expiry, amount) == (
                await theirs.acquire_entry(f"{key}/{expiry}", limit, expiry, amount)
            )
        else:
            mine = await ours.get_moving_window(key, limit, expiry)
            reference = await theirs.get_moving_window(f"{key}/{expiry}", limit, expiry)
            assert mine[1] == reference[1]
            if mine[1]:
                assert mine[0] == reference[0]
        now[0] += randomness.choice([0.013, 0.5, 1.7, 6.1])
    for storage in (ours, theirs):
        if storage.timer is not None:
            storage.timer.cancel()


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


async def test_wrong_codes_lock_the_number_for_the_lockout_time(limits: RateLimits) -> None:
    strict = tenant(failedVerificationLimit=3, lockoutSeconds=300)
    await limits.ensure_not_locked(strict, DE_1)
    await limits.record_failed_verification(strict, DE_1)
    await limits.record_failed_verification(strict, DE_1)
    error = await refused(limits.record_failed_verification(strict, DE_1))
    assert isinstance(error, VerificationBlockedError)
    assert error.code == "session.verification_blocked_too_many_attempts"
    assert 295 <= error.retry_after <= 300
    again = await refused(limits.ensure_not_locked(strict, DE_1))
    assert isinstance(again, VerificationBlockedError)
    await limits.ensure_not_locked(strict, DE_2)
    await limits.ensure_not_locked(tenant("t2", failedVerificationLimit=3), DE_1)


async def test_instances_sharing_redis_share_their_counters() -> None:
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    first = RateLimits(build_rate_limit_storage(REDIS_URL, key_prefix=prefix), hash_key=b"k")
    second = RateLimits(build_rate_limit_storage(REDIS_URL, key_prefix=prefix), hash_key=b"k")
    small = tenant(recipientLimit=2)
    try:
        await first.acquire_send(small, DE_1)
        await second.acquire_send(small, DE_1)
        assert isinstance(await refused(first.acquire_send(small, DE_1)), MessageRateLimitedError)
        assert isinstance(await refused(second.acquire_send(small, DE_1)), MessageRateLimitedError)
    finally:
        await first.storage.reset()
        await first.close()
        await second.close()


async def test_when_redis_is_down_requests_pass_with_a_warning(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    down = RateLimits(build_rate_limit_storage(f"redis://127.0.0.1:{closed_port}"), hash_key=b"k")
    small = tenant(recipientLimit=1, failedVerificationLimit=1)
    for _ in range(3):
        await down.acquire_send(small, DE_1, "203.0.113.9")
    await down.record_failed_verification(small, DE_1)
    await down.ensure_not_locked(small, DE_1)
    await down.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings
    assert all("rate-limit storage failed" in r.getMessage() for r in warnings)
    assert all(DE_1 not in r.getMessage() for r in caplog.records)


async def test_redis_keys_name_the_tenant_and_never_the_phone_number() -> None:
    prefix = "phoneauth-test-" + uuid.uuid4().hex
    storage = build_rate_limit_storage(REDIS_URL, key_prefix=prefix)
    assert isinstance(storage, RedisStorage)
    limits = RateLimits(storage, hash_key=b"k" * 32)
    try:
        await limits.acquire_send(tenant("acme"), DE_1, "203.0.113.9")
        keys = sorted(str(k) for k in await storage.bridge.storage.keys(f"{prefix}:*"))  # type: ignore[attr-defined]
    finally:
        await storage.reset()
        await limits.close()
    assert len(keys) == 3
    assert all("/acme/" in key for key in keys)
    assert not any(DE_1.lstrip("+") in key for key in keys)
    assert any("/send-ip/acme/203.0.113.9/" in key for key in keys)
    assert any("/send-country/acme/49/" in key for key in keys)
