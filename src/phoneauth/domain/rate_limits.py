"""Send budgets and the failed-verification lock, counted with the `limits` library.

Counters live in process memory by default and in Redis when `PHONEAUTH_REDIS_URL` is set, so
several instances share them. Every key holds the tenant id; phone numbers enter keys only as a
keyed hash. Every limit comes from the tenant's `RateLimitPolicy`.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from phoneauth.crypto import keyed_hash
from phoneauth.domain.phone_numbers import country_calling_code
from phoneauth.domain.rate_limit_memory import CompactMemoryStorage
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


def build_rate_limit_storage(
    redis_url: str | None, *, key_prefix: str = DEFAULT_KEY_PREFIX
) -> Storage:
    """Memory for one instance; Redis (`redis://` or `rediss://`) for several."""
    if not redis_url:
        return CompactMemoryStorage(wrap_exceptions=True)
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
        # Process memory: the same rules in direct calls (limits' strategy wraps each in two
        # awaits and an error wrapper; a fifth of a wrong-code verify went there).
        self._memory = storage if isinstance(storage, CompactMemoryStorage) else None
        self._hash_key = hash_key
        # A verify asks for the number's key up to three times (lock, failures, lock again).
        self._phone_key = functools.lru_cache(maxsize=1024)(self._keyed_phone)

    def _keyed_phone(self, phone: str) -> str:
        return keyed_hash(self._hash_key, phone)[:32]

    @staticmethod
    def _window(budget: _Budget) -> tuple[str, int, int]:
        return budget.item.key_for(*budget.key), budget.item.amount, budget.item.get_expiry()

    async def _hit(self, budget: _Budget) -> bool:
        """limits' `hit`: count one unless the budget is spent."""
        if self._memory is not None:
            return self._memory.acquire_together([self._window(budget)]) is None
        return await self._limiter.hit(budget.item, *budget.key)

    async def _has_room(self, budget: _Budget) -> bool:
        """limits' `test`: True while one more would fit."""
        if self._memory is not None:
            key, limit, expiry = self._window(budget)
            return self._memory.count(key, expiry) < limit
        return await self._limiter.test(budget.item, *budget.key)

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
        if self._memory is not None:  # the same, in one step
            full = self._memory.acquire_together([self._window(budget) for budget in budgets])
            if full is not None:
                raise await self._refuse(budgets[full])
            return
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
            if not await self._has_room(lock):
                raise await self._refuse(lock)
        except StorageError as error:
            log.warning("rate-limit storage failed, verification allowed: %s", error.storage_error)

    async def record_failed_verification(self, tenant: Tenant, phone: str) -> None:
        """Count a wrong code; the one that reaches the limit locks the number and raises."""
        failures, lock = self._failures(tenant, phone), self._lock(tenant, phone)
        try:
            await self._hit(failures)
            if await self._has_room(failures):
                return
            # The lock runs `lockout_seconds` from now; the failure count starts over after it.
            await self._hit(lock)
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
