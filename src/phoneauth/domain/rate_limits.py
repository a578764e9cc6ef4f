"""Send budgets and the failed-verification lock, counted with the `limits` library.

Counters live in process memory by default and in Redis when `PHONEAUTH_REDIS_URL` is set, so
several instances share them. Every key holds the tenant id; phone numbers enter keys only as a
keyed hash. Every limit comes from the tenant's `RateLimitPolicy`.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from phoneauth.crypto import keyed_hash
from phoneauth.domain.phone_numbers import country_calling_code
from phoneauth.domain.tenants import RateLimitPolicy, Tenant
from phoneauth.errors import PhoneauthError

log = logging.getLogger("phoneauth.rate_limits")

DEFAULT_KEY_PREFIX = "phoneauth"


class RateLimitedError(PhoneauthError):
    """Too many requests; try again after `details.retry_after` seconds."""

    code = "request.rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(None, retry_after=retry_after)
        self.retry_after = retry_after


class MessageRateLimitedError(RateLimitedError):
    """Too many messages were sent to this phone number; try again later."""

    code = "request.message_rate_limited"


class IpRateLimitedError(RateLimitedError):
    """Too many messages were requested from this network address; try again later."""

    code = "request.ip_rate_limited"


class CountryRateLimitedError(RateLimitedError):
    """Too many messages were sent to this country; try again later."""

    code = "request.country_rate_limited"


class VerificationBlockedError(RateLimitedError):
    """Too many wrong codes for this phone number; it is locked for a while."""

    code = "session.verification_blocked_too_many_attempts"


class _Entry:
    """limits' moving-window entry with slots: 56 bytes instead of about 150."""

    __slots__ = ("atime", "expiry")

    def __init__(self, expiry: int) -> None:
        self.atime = time.time()
        self.expiry = self.atime + expiry


class SweptMemoryStorage(MemoryStorage):
    """`limits`' memory storage, its expired entries swept at most every `sweep_seconds`, and
    its moving-window entries small.

    limits (5.8) starts a new sweep on every hit once the previous one has ended, and the sweep
    hands each key to a worker thread: with a key per phone number that is a busy loop, which
    took about half the server's CPU under `make bench`. Counting ignores expired entries anyway;
    the sweep only frees their memory, so once in a while is enough, and it runs in place.

    Memory: limits keeps an `asyncio.Lock` and an entry with a `__dict__` per key, about 550
    bytes per phone number (55 MB after 100,000 numbers). Its critical section never awaits, so
    on one event loop the lock guards nothing; `acquire_entry` below is limits' own without it,
    with slotted entries.
    """

    # Each sweep walks every key (~8 µs each): every 5 s, with a key per number sent to in the
    # last ten minutes, that was a sixth of the server's CPU (`make bench`, after 100,000 codes).
    # Entries expire after their window (ten minutes for a number) anyway.
    sweep_seconds = 60.0
    _next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # replaces limits' private hook
        now = time.monotonic()
        if now >= self._next_sweep and (self.timer is None or self.timer.done()):
            self._next_sweep = now + self.sweep_seconds
            self.timer = asyncio.create_task(self.sweep())

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        await self._MemoryStorage__schedule_expiry()
        events: list[Any] = self.events.setdefault(key, [])
        timestamp = time.time()
        oldest_counted = events[limit - amount] if len(events) > limit - amount else None
        if oldest_counted is not None and oldest_counted.atime >= timestamp - expiry:
            return False
        events[:0] = [_Entry(expiry)] * amount
        return True

    async def sweep(self, now: float | None = None) -> None:
        """Drop entries expired at `now`, and empty keys; yields to other tasks every 1,000 keys."""
        now = time.time() if now is None else now
        for index, key in enumerate(list(self.events)):
            events = self.events.get(key)
            if events:  # newest first, one window length per key: the expired ones trail
                del events[bisect.bisect_left(events, -now, key=lambda e: -e.expiry) :]
            if not events:
                self.events.pop(key, None)
                self.locks.pop(key, None)
            if index % 1000 == 999:
                await asyncio.sleep(0)
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


def build_rate_limit_storage(
    redis_url: str | None, *, key_prefix: str = DEFAULT_KEY_PREFIX
) -> Storage:
    """Memory for one instance; Redis (`redis://` or `rediss://`) for several."""
    if not redis_url:
        return SweptMemoryStorage(wrap_exceptions=True)
    uri = redis_url if redis_url.startswith("async+") else "async+" + redis_url
    return RedisStorage(uri, wrap_exceptions=True, key_prefix=key_prefix)


class _KeyCachingItem(RateLimitItemPerSecond):
    """limits' per-second item, its storage keys remembered: a send asks for each of its three
    keys twice (test, then hit) and the IP and country keys recur across requests; building
    them was a sixth of the limiter's CPU (`make bench`)."""

    __slots__ = ("_keys",)

    def __init__(self, amount: int, multiples: int) -> None:
        super().__init__(amount, multiples)
        self._keys: dict[tuple[bytes | str | int | float, ...], str] = {}

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        found = self._keys.get(identifiers)
        if found is None:
            if len(self._keys) >= 256:
                self._keys.clear()
            found = self._keys[identifiers] = super().key_for(*identifiers)
        return found


@functools.lru_cache(maxsize=256)
def _per_seconds(limit: int, seconds: int) -> RateLimitItem:
    """The limit item for `limit` per `seconds`, shared by every request that uses it."""
    return _KeyCachingItem(limit, seconds)


@dataclass(frozen=True, slots=True)
class _Budget:
    """One counter: its limit item, the key parts and the error when it is spent."""

    item: RateLimitItem
    key: tuple[str, ...]
    error: type[RateLimitedError]


class RateLimits:
    """Checks and counts the send budgets and the verification lock of one tenant at a time.

    A storage failure (Redis down) lets the request through and logs a warning, as Logto's
    guard does: losing SMS sign-in entirely would hurt more than a short unguarded spell.
    """

    def __init__(self, storage: Storage, *, hash_key: bytes) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._hash_key = hash_key

    def _phone_key(self, phone: str) -> str:
        return keyed_hash(self._hash_key, phone)[:32]

    def _send_budgets(self, tenant: Tenant, phone: str, ip: str | None) -> list[_Budget]:
        policy: RateLimitPolicy = tenant.settings.rate_limits
        budgets = [
            _Budget(
                _per_seconds(policy.recipient_limit, policy.recipient_window_seconds),
                ("send-recipient", tenant.id, self._phone_key(phone)),
                MessageRateLimitedError,
            )
        ]
        if ip:
            budgets.append(
                _Budget(
                    _per_seconds(policy.ip_limit, policy.ip_window_seconds),
                    ("send-ip", tenant.id, ip),
                    IpRateLimitedError,
                )
            )
        budgets.append(
            _Budget(
                _per_seconds(policy.country_limit, policy.country_window_seconds),
                ("send-country", tenant.id, str(country_calling_code(phone))),
                CountryRateLimitedError,
            )
        )
        return budgets

    async def _retry_after(self, budget: _Budget) -> int:
        stats = await self._limiter.get_window_stats(budget.item, *budget.key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _refuse(self, budget: _Budget) -> RateLimitedError:
        return budget.error(await self._retry_after(budget))

    async def acquire_send(self, tenant: Tenant, phone: str, ip: str | None = None) -> None:
        """Count one send against every budget, or raise without counting anything.

        All budgets are tested before any is counted, so a refused request costs nothing.
        """
        budgets = self._send_budgets(tenant, phone, ip)
        try:
            for budget in budgets:
                if not await self._limiter.test(budget.item, *budget.key):
                    raise await self._refuse(budget)
            for budget in budgets:
                # `hit` re-checks atomically: a concurrent burst cannot overshoot the budget.
                if not await self._limiter.hit(budget.item, *budget.key):
                    raise await self._refuse(budget)
        except StorageError as error:
            log.warning("rate-limit storage failed, send allowed: %s", error.storage_error)

    def _lock(self, tenant: Tenant, phone: str) -> _Budget:
        policy = tenant.settings.rate_limits
        return _Budget(
            _per_seconds(1, policy.lockout_seconds),
            ("verify-lock", tenant.id, self._phone_key(phone)),
            VerificationBlockedError,
        )

    def _failures(self, tenant: Tenant, phone: str) -> _Budget:
        policy = tenant.settings.rate_limits
        return _Budget(
            _per_seconds(policy.failed_verification_limit, policy.lockout_seconds),
            ("verify-failures", tenant.id, self._phone_key(phone)),
            VerificationBlockedError,
        )

    async def ensure_not_locked(self, tenant: Tenant, phone: str) -> None:
        """Raise while the phone number is locked after too many wrong codes."""
        lock = self._lock(tenant, phone)
        try:
            if not await self._limiter.test(lock.item, *lock.key):
                raise await self._refuse(lock)
        except StorageError as error:
            log.warning("rate-limit storage failed, verification allowed: %s", error.storage_error)

    async def record_failed_verification(self, tenant: Tenant, phone: str) -> None:
        """Count a wrong code; the one that reaches the limit locks the number and raises."""
        failures, lock = self._failures(tenant, phone), self._lock(tenant, phone)
        try:
            await self._limiter.hit(failures.item, *failures.key)
            if await self._limiter.test(failures.item, *failures.key):
                return
            # The lock runs `lockout_seconds` from now; the failure count starts over after it.
            await self._limiter.hit(lock.item, *lock.key)
            await self._limiter.clear(failures.item, *failures.key)
            raise await self._refuse(lock)
        except StorageError as error:
            log.warning("rate-limit storage failed, failure not counted: %s", error.storage_error)

    async def close(self) -> None:
        """Release Redis connections, or stop the memory storage's expiry timer."""
        if isinstance(self.storage, MemoryStorage) and self.storage.timer is not None:
            self.storage.timer.cancel()
        if isinstance(self.storage, RedisStorage):
            pool = getattr(getattr(self.storage.bridge, "storage", None), "connection_pool", None)
            if pool is not None:
                pool.disconnect()
