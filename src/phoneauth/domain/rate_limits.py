"""Send budgets and the failed-verification lock, on moving-window counters.

Counters live in process memory by default and in Redis when `PHONEAUTH_REDIS_URL` is set, so
several instances share them (`RateLimitCounters`; the wiring picks one, and puts process memory
behind Redis for its outages: `rate_limit_fallback`). Every key holds the tenant id; phone
numbers enter keys only as a keyed hash. Every limit comes from the tenant's `RateLimitPolicy`.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from phoneauth.crypto import keyed_hash
from phoneauth.domain.metrics import NO_METRICS, Metrics
from phoneauth.domain.phone_numbers import country_calling_code
from phoneauth.domain.rate_limit_counters import CountersUnavailableError, RateLimitCounters, Window
from phoneauth.domain.tenants import Tenant
from phoneauth.errors import PhoneauthError

log = logging.getLogger("phoneauth.rate_limits")


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


class CountersUnreachableError(PhoneauthError):
    """The rate-limit counters cannot be reached right now; try again in a moment."""

    code = "server.unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__(None, retry_after=5)


@contextmanager
def _refused_when_unreachable() -> Iterator[None]:
    """Counters without a fallback that cannot be reached: refuse (503), never count nothing."""
    try:
        yield
    except CountersUnavailableError:
        # No error text: a store's message may quote its URL, credentials included.
        log.warning("rate-limit counters unreachable; request refused with 503")
        raise CountersUnreachableError() from None


class Budget(StrEnum):
    """Which limit refused a request, as metrics name it (never the number or address)."""

    RECIPIENT = "recipient"
    IP = "ip"
    COUNTRY = "country"
    VERIFICATION_LOCK = "verification_lock"
    """The number is locked after too many wrong codes: its sends and verifies are refused."""


# The error and budget for each send window, in the order `_send_windows` lists them.
_SEND_ERRORS_WITH_IP = (MessageRateLimitedError, IpRateLimitedError, CountryRateLimitedError)
_SEND_ERRORS = (MessageRateLimitedError, CountryRateLimitedError)
_SEND_BUDGETS_WITH_IP = (Budget.RECIPIENT, Budget.IP, Budget.COUNTRY)
_SEND_BUDGETS = (Budget.RECIPIENT, Budget.COUNTRY)


class RateLimits:
    """Checks and counts the send budgets and the verification lock of one tenant at a time.

    Never unlimited: the wiring keeps Redis's outages to itself (process-memory counters take
    over, `rate_limit_fallback`); counters that fail all the same refuse the request with a
    retryable 503 rather than let it through uncounted, which let a burst send 200 SMS where 3
    were allowed.
    """

    def __init__(
        self, counters: RateLimitCounters, *, hash_key: bytes, metrics: Metrics = NO_METRICS
    ) -> None:
        self.counters = counters
        self.metrics = metrics
        self._hash_key = hash_key
        # A verify asks for the number's key up to twice (lock, failures).
        self._phone_key = functools.lru_cache(maxsize=1024)(self._keyed_phone)

    def _keyed_phone(self, phone: str) -> str:
        return keyed_hash(self._hash_key, phone)[:32]

    def _send_windows(
        self, tenant: Tenant, phone: str, ip: str | None, by_country: bool = True
    ) -> list[Window]:
        policy = tenant.settings.rate_limits
        recipient = Window(
            f"send-recipient/{tenant.id}/{self._phone_key(phone)}",
            policy.recipient_limit,
            policy.recipient_window_seconds,
        )
        address = None
        if ip:
            address = Window(f"send-ip/{tenant.id}/{ip}", policy.ip_limit, policy.ip_window_seconds)
        windows = [recipient] if address is None else [recipient, address]
        if by_country:
            windows.append(
                Window(
                    f"send-country/{tenant.id}/{country_calling_code(phone)}",
                    policy.country_limit,
                    policy.country_window_seconds,
                )
            )
        return windows

    async def _refuse(self, window: Window, error: type[RateLimitedError]) -> RateLimitedError:
        _hits, frees_at = await self.counters.usage(window)
        return error(max(1, math.ceil(frees_at - time.time())))

    async def acquire_send(
        self, tenant: Tenant, phone: str, ip: str | None = None, *, by_country: bool = True
    ) -> None:
        """Count one send against every budget, or raise without counting anything.

        A number locked after wrong codes gets no new code either: a fresh code would only give
        whoever is guessing a fresh set of tries. All budgets are tested before any is counted,
        so a refused request costs nothing.
        """
        await self.ensure_not_locked(tenant, phone)
        # An email address (`by_country=False`) has no country: its key is the address's.
        windows = self._send_windows(tenant, phone, ip, by_country)
        with _refused_when_unreachable():
            full = await self.counters.acquire(windows)
            if full is not None:
                errors = _SEND_ERRORS_WITH_IP if ip else _SEND_ERRORS
                budgets = _SEND_BUDGETS_WITH_IP if ip else _SEND_BUDGETS
                self.metrics.rate_limited(tenant.id, budgets[full])
                raise await self._refuse(windows[full], errors[full])

    def _lock(self, tenant: Tenant, phone: str) -> Window:
        policy = tenant.settings.rate_limits
        return Window(
            f"verify-lock/{tenant.id}/{self._phone_key(phone)}", 1, policy.lockout_seconds
        )

    def _failures(self, tenant: Tenant, phone: str) -> Window:
        policy = tenant.settings.rate_limits
        return Window(
            f"verify-failures/{tenant.id}/{self._phone_key(phone)}",
            policy.failed_verification_limit,
            policy.lockout_seconds,
        )

    async def ensure_not_locked(self, tenant: Tenant, phone: str) -> None:
        """Raise while the phone number is locked after too many wrong codes (or passwords)."""
        lock = self._lock(tenant, phone)
        with _refused_when_unreachable():
            hits, frees_at = await self.counters.usage(lock)
        if hits >= lock.limit:
            self.metrics.rate_limited(tenant.id, Budget.VERIFICATION_LOCK)
            raise VerificationBlockedError(max(1, math.ceil(frees_at - time.time())))

    async def record_failed_verification(self, tenant: Tenant, phone: str) -> bool:
        """Count a wrong code; True when it was the `failedVerificationLimit`-th, which locks
        the number for `lockoutSeconds` from now.

        The caller still answers this attempt for what it was (a mismatch): the limit is the
        number of wrong codes a number may have, and the next attempt, send or verify, is the
        one refused, as `maxRetryAttempts` is per code (Logto's sentinel answers the last wrong
        code itself as blocked; either way exactly that many codes are compared).
        """
        lock = self._lock(tenant, phone)
        with _refused_when_unreachable():
            locked = await self.counters.record_failure(self._failures(tenant, phone), lock)
        if locked:
            log.info("a phone number is locked for %d s after repeated wrong codes", lock.seconds)
        return locked

    async def check(self) -> bool:
        """True when the counters answer; behind a fallback, when the shared ones answer (the
        /health endpoint asks)."""
        try:
            return await self.counters.check()
        except CountersUnavailableError:
            return False

    async def close(self) -> None:
        """Release Redis connections, or stop the memory counters' sweep."""
        await self.counters.close()
