"""Rate-limit counters in Redis, shared by every instance, through limits' public API.

Keys are limits' own (`<prefix>:LIMITER/send-recipient/<tenant>/<hash>/10/600/second`), as
before this module existed, so a deployment that upgrades keeps its counters. Tallies are
`<prefix>:TALLY/<key>` (limits' storage API); distinct members are a sorted set each,
`<prefix>:DISTINCT/<key>`, changed by one script of ours on the same connections.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import cast

import coredis
from coredis.exceptions import RedisError
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from phoneauth.domain.rate_limit_counters import CountersUnavailableError, Window

DEFAULT_KEY_PREFIX = "phoneauth"


@functools.lru_cache(maxsize=256)
def _item(limit: int, seconds: int) -> RateLimitItem:
    """limits' item for `limit` per `seconds`, shared by every request that uses it."""
    return RateLimitItemPerSecond(limit, seconds)


CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 1.0
"""Defaults for the pool (the URL's `connect_timeout` and `stream_timeout` win): an unreachable
Redis must fail fast, so the fallback counters take over instead of every request waiting."""


ADMIT_DISTINCT = """
-- KEYS[1]: a sorted set, member -> when it was admitted. ARGV: member, limit, seconds, now and
-- now - seconds (computed by the caller: Lua would print it with 14 digits, cutting the time).
local key, member, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[5])
if redis.call('ZSCORE', key, member) then
    return false
end
local count = redis.call('ZCARD', key)
if count >= limit then
    -- room frees when the limit-th newest member leaves
    return redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')[2]
end
redis.call('ZADD', key, ARGV[4], member)
redis.call('EXPIRE', key, ARGV[3])
return false
"""
"""`admit_distinct` in one step on the server, so concurrent callers never pass the limit. A
member counts while it was admitted after now - seconds, as in `MemoryCounters`; the answer
is nil (admitted) or the score of the member whose leaving frees room."""


@contextmanager
def _unavailable_on_storage_error() -> Iterator[None]:
    try:
        yield
    except StorageError as error:
        raise CountersUnavailableError(str(error.storage_error)) from error
    except RedisError as error:  # our own script's call (limits wraps these as StorageError)
        raise CountersUnavailableError(type(error).__name__) from error
    except OSError as error:  # a socket fault limits did not wrap (timeouts are OSErrors too)
        raise CountersUnavailableError(type(error).__name__) from error


class RedisCounters:
    """`RateLimitCounters` on Redis (`redis://` or `rediss://`), limits' moving-window strategy.

    We hand limits a connection pool of our own (its documented `connection_pool` option) so
    that `close` can release it without reaching into limits' objects; `admit_distinct` runs
    its script through a coredis client on the same pool. Its times come from `clock` (limits
    reads its own, `time.time`, for the windows), so tests can move them.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        url = redis_url.removeprefix("async+")
        self._pool: coredis.ConnectionPool = coredis.ConnectionPool.from_url(
            url, connect_timeout=CONNECT_TIMEOUT_S, stream_timeout=COMMAND_TIMEOUT_S
        )
        self.key_prefix = key_prefix
        self.clock = clock
        self._admit_distinct = coredis.Redis(connection_pool=self._pool).register_script(
            ADMIT_DISTINCT
        )
        self.storage = RedisStorage(
            "async+" + url,
            wrap_exceptions=True,
            key_prefix=key_prefix,
            connection_pool=self._pool,  # type: ignore[arg-type]  # limits types options as scalars
        )
        self._limiter = MovingWindowRateLimiter(self.storage)

    async def acquire(self, windows: Sequence[Window]) -> int | None:
        """Test every window, then hit each: `hit` re-checks atomically in Redis, so a
        concurrent burst cannot overshoot a budget (it may count a refused send in an earlier
        window, as limits always has)."""
        with _unavailable_on_storage_error():
            for index, (key, limit, seconds) in enumerate(windows):
                if not await self._limiter.test(_item(limit, seconds), key):
                    return index
            for index, (key, limit, seconds) in enumerate(windows):
                if not await self._limiter.hit(_item(limit, seconds), key):
                    return index
        return None

    async def usage(self, window: Window) -> tuple[int, float]:
        item = _item(window.limit, window.seconds)
        with _unavailable_on_storage_error():
            stats = await self._limiter.get_window_stats(item, window.key)
        return window.limit - stats.remaining, stats.reset_time

    async def record_failure(self, failures: Window, lock: Window) -> bool:
        counted, locking = _item(failures.limit, failures.seconds), _item(lock.limit, lock.seconds)
        with _unavailable_on_storage_error():
            if await self._limiter.hit(counted, failures.key) and await self._limiter.test(
                counted, failures.key
            ):
                return False
            await self._limiter.hit(locking, lock.key)
            await self._limiter.clear(counted, failures.key)
        return True

    async def add(self, key: str, seconds: int) -> int:
        """INCR, and EXPIRE on the first count (limits' storage API)."""
        with _unavailable_on_storage_error():
            return await self.storage.incr(f"TALLY/{key}", seconds)

    async def tally(self, key: str) -> int:
        with _unavailable_on_storage_error():
            return await self.storage.get(f"TALLY/{key}")

    async def admit_distinct(self, key: str, member: str, limit: int, seconds: int) -> float | None:
        """One script call (`ADMIT_DISTINCT`); the set expires `seconds` after its newest member."""
        if limit < 1:
            raise ValueError("a budget of distinct members holds at least one")
        now = self.clock()
        with _unavailable_on_storage_error():
            oldest = await self._admit_distinct(
                keys=[f"{self.key_prefix}:DISTINCT/{key}"],
                args=[member, limit, seconds, repr(now), repr(now - seconds)],
            )
        # The script's answer is a score as Redis prints it (a bulk string: every digit kept).
        return None if oldest is None else float(cast(bytes, oldest)) + seconds

    async def reset(self) -> None:
        """Delete every key under this prefix."""
        with _unavailable_on_storage_error():
            await self.storage.reset()

    async def check(self) -> bool:
        with _unavailable_on_storage_error():
            return await self.storage.check()

    async def close(self) -> None:
        self._pool.disconnect()
