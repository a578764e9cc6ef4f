"""Fixtures for domain tests: rate-limit counters in memory and on the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import migrated

from phoneauth.domain.rate_limit_counters import RateLimitCounters
from phoneauth.domain.rate_limit_fallback import FallbackCounters
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.storage.database import Database
from phoneauth.storage.rate_limit_redis import RedisCounters

REDIS_URL = "redis://127.0.0.1:6379"


def redis_counters() -> RedisCounters:
    """Counters under a key prefix of their own, so tests never see each other's keys."""
    return RedisCounters(REDIS_URL, key_prefix="phoneauth-test-" + uuid.uuid4().hex)


@pytest.fixture(params=["memory", "redis", "redis-with-fallback"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[RateLimitCounters]:
    """A test that asks runs three times: on process memory, on Redis (its keys deleted after),
    and on Redis with memory behind it, as the service runs (`FallbackCounters`)."""
    counters: RateLimitCounters
    if request.param == "memory":
        counters = MemoryCounters()
    elif request.param == "redis":
        counters = redis_counters()
    else:
        counters = FallbackCounters(redis_counters())
    if not await counters.check():
        await counters.close()
        pytest.fail(f"Redis at {REDIS_URL} is required for this test")
    try:
        yield counters
    finally:
        await counters.reset()
        await counters.close()


@pytest.fixture
async def database(migrated_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    """The test's database (an SQLite file, then a PostgreSQL schema), migrated to the head."""
    database = await migrated(migrated_database)
    yield database
    await database.dispose()
