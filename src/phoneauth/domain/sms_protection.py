"""SMS pumping defence: which numbers may get an SMS at all, and how many, per tenant.

Pumping (toll fraud) asks for codes to ranges of premium or rarely used numbers and never
verifies one. `SmsProtection.check` runs on every SMS send (`VerificationCodes.send`), before
any code exists and whatever the number's account, so a refusal never tells whether a number
has an account: country lists, number types, a country's suspension, the conversion watch, the
prefix velocity and the daily caps. Test numbers (`testPhoneNumbers`) never get here.

The counts are the rate limits' counters (`TallyCounters`): shared by every instance with
Redis, per process without it, as the rate limits are. The prefix budget counts distinct
numbers in a moving window (`admit_distinct`: one key per prefix, holding its numbers' last
digits); the day's counts are plain tallies per UTC day, and the conversion watch's are
tallies in buckets of the window's length, the previous bucket weighted by how much of it the
sliding window still covers (one number per key, whatever the traffic). Suspensions are rows
(`sms_country_suspensions`), so every worker refuses a suspended country at once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import phonenumbers

from phoneauth.connectors import mask_phone
from phoneauth.crypto import keyed_hash
from phoneauth.domain.metrics import NO_METRICS, Metrics
from phoneauth.domain.phone_numbers import region_of
from phoneauth.domain.rate_limit_counters import CountersUnavailableError, TallyCounters
from phoneauth.domain.rate_limits import CountersUnreachableError
from phoneauth.domain.sms_protection_settings import SmsProtectionSettings, number_type
from phoneauth.domain.tenants import Tenant
from phoneauth.errors import PhoneauthError

log = logging.getLogger("phoneauth.sms_protection")

NO_REGION = "001"
"""What a non-geographic number (+800, +882...) is counted and listed under."""
_DAY = 86_400


class SmsRefusal(StrEnum):
    """Why a send was refused, as metrics and logs name it (the error's stable code)."""

    COUNTRY_NOT_ALLOWED = "phone_number.country_not_allowed"
    TYPE_NOT_ALLOWED = "phone_number.type_not_allowed"
    PREFIX_RATE_LIMITED = "sms.prefix_rate_limited"
    DAILY_CAP_REACHED = "sms.daily_cap_reached"
    COUNTRY_SUSPENDED = "sms.country_suspended"


class CountryNotAllowedError(PhoneauthError):
    """Codes cannot be sent by SMS to phone numbers of this country."""

    code = SmsRefusal.COUNTRY_NOT_ALLOWED.value
    status = 422


class NumberTypeNotAllowedError(PhoneauthError):
    """Codes cannot be sent by SMS to this kind of phone number; use a mobile number."""

    code = SmsRefusal.TYPE_NOT_ALLOWED.value
    status = 422


class PrefixRateLimitedError(PhoneauthError):
    """Too many codes were sent to numbers close to this one; try again later."""

    code = SmsRefusal.PREFIX_RATE_LIMITED.value
    status = 429


class DailyCapReachedError(PhoneauthError):
    """Today's limit of SMS has been reached; sending resumes at midnight UTC."""

    code = SmsRefusal.DAILY_CAP_REACHED.value
    status = 429


class CountrySuspendedError(PhoneauthError):
    """Sending codes to this country is paused; try again later."""

    code = SmsRefusal.COUNTRY_SUSPENDED.value
    status = 429


REFUSALS: tuple[type[PhoneauthError], ...] = (
    CountryNotAllowedError,
    NumberTypeNotAllowedError,
    PrefixRateLimitedError,
    DailyCapReachedError,
    CountrySuspendedError,
)
"""What any SMS send may answer from the pumping defence (the routes document them)."""


class SuspensionNotFoundError(PhoneauthError):
    """This country is not suspended."""

    code = "sms.country_not_suspended"
    status = 404


class InvalidCountryError(PhoneauthError):
    """Not an ISO 3166 region code with phone numbers (e.g. `DE`)."""

    code = "sms.invalid_country"
    status = 400


class SuspensionReason(StrEnum):
    LOW_CONVERSION = "low_conversion"
    """The conversion watch: too few of the codes sent to the country were verified."""
    ADMIN = "admin"
    """An admin suspended the country."""


@dataclass(frozen=True, slots=True)
class CountrySuspension:
    """A country's latest suspension; kept once it ended, as the start of its new count."""

    tenant_id: str
    country: str
    reason: str
    details: str | None
    suspended_at: datetime
    until: datetime | None
    """None: until an admin resumes the country."""

    def active(self, now: datetime) -> bool:
        return self.until is None or self.until > now


class SuspensionStore(Protocol):
    async def suspensions(self, tenant_id: str) -> dict[str, CountrySuspension]:
        """Every country's latest suspension, ended ones included (cached: read per send)."""
        ...

    async def put(self, suspension: CountrySuspension) -> None:
        """Insert or replace the country's suspension."""
        ...

    async def end(self, tenant_id: str, country: str, now: datetime) -> bool:
        """Set `until = now` on an active suspension; True if there was one."""
        ...


@dataclass(frozen=True, slots=True)
class CountryToday:
    country: str
    messages: int
    cost: float


@dataclass(frozen=True, slots=True)
class ProtectionState:
    """What the API and the console show beside the settings."""

    day: str
    messages: int
    cost: float | None
    """The estimated cost so far today; None without a cost cap (nothing is priced then)."""
    countries: list[CountryToday]
    suspended: list[CountrySuspension]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _seconds_to_midnight(now: datetime) -> int:
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - now).total_seconds()))


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


class SmsProtection:
    """Checks and counts one tenant's SMS at a time; `clock` dates days and suspensions."""

    def __init__(
        self,
        counters: TallyCounters,
        store: SuspensionStore,
        *,
        hash_key: bytes,
        clock: Callable[[], datetime] = utc_now,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.counters = counters
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self._hash_key = hash_key
        self._alerted: set[tuple[str, str, str]] = set()

    # --- the send path -------------------------------------------------------------------

    async def check(self, tenant: Tenant, e164: str, *, leaves: bool) -> None:
        """Refuse or count one SMS send to `e164`; `leaves` when an SMS really goes out
        (not a send kept silent for a number without account): only those count as sent in
        the conversion watch. Every other rule is the same for both, so the answer is too.

        Raises (nothing counted): CountryNotAllowedError, NumberTypeNotAllowedError,
        CountrySuspendedError, PrefixRateLimitedError, DailyCapReachedError.
        """
        rules = tenant.settings.sms_protection
        country = region_of(e164) or NO_REGION
        try:
            self._check_number(rules, e164, country)
            # One reading of the clock and of the suspensions for every rule of this send.
            now = self.clock()
            latest = (await self.store.suspensions(tenant.id)).get(country)
            await self._check_suspension(tenant, rules, country, latest, now)
            await self._acquire(tenant, rules, e164, country, leaves, latest, now)
        except CountersUnavailableError:
            # Never let a send through uncounted (as the rate limits): a retryable 503.
            log.warning("SMS protection counters unreachable; request refused with 503")
            raise CountersUnreachableError() from None
        except PhoneauthError as refusal:
            self.metrics.sms_refused(tenant.id, country, refusal.code)
            log.info("SMS to %s refused: %s", mask_phone(e164), refusal.code)
            raise

    def _check_number(self, rules: SmsProtectionSettings, e164: str, country: str) -> None:
        if country in rules.denied_countries or (
            rules.allowed_countries and country not in rules.allowed_countries
        ):
            raise CountryNotAllowedError(country=country)
        kind = number_type(e164)
        if kind not in rules.allowed_number_types:
            raise NumberTypeNotAllowedError(numberType=kind.value)

    async def _check_suspension(
        self,
        tenant: Tenant,
        rules: SmsProtectionSettings,
        country: str,
        latest: CountrySuspension | None,
        now: datetime,
    ) -> None:
        if latest is not None and latest.active(now):
            raise self._suspended(latest, now)
        if rules.conversion_threshold <= 0:
            return
        sent = await self._recent(tenant, rules, country, latest, "sent", now)
        if sent < rules.conversion_min_sends:
            return
        verified = min(sent, await self._recent(tenant, rules, country, latest, "verified", now))
        if verified >= rules.conversion_threshold * sent:
            return
        minutes = rules.conversion_window_seconds // 60
        suspension = CountrySuspension(
            tenant_id=tenant.id,
            country=country,
            reason=SuspensionReason.LOW_CONVERSION.value,
            details=(
                f"{round(verified)} of {round(sent)} codes sent in the last {minutes} minutes "
                f"were verified ({_percent(verified / sent)}, below "
                f"{_percent(rules.conversion_threshold)})."
            ),
            suspended_at=now,
            until=(
                None
                if rules.suspension_seconds is None
                else now + timedelta(seconds=rules.suspension_seconds)
            ),
        )
        await self.store.put(suspension)
        self.metrics.country_suspended(tenant.id, country, suspension.reason)
        log.warning("tenant %s: SMS to %s suspended: %s", tenant.id, country, suspension.details)
        raise self._suspended(suspension, now)

    @staticmethod
    def _suspended(suspension: CountrySuspension, now: datetime) -> CountrySuspendedError:
        if suspension.until is None:
            return CountrySuspendedError(country=suspension.country)
        seconds = max(1, math.ceil((suspension.until - now).total_seconds()))
        return CountrySuspendedError(country=suspension.country, retry_after=seconds)

    def _conversion_keys(
        self,
        tenant: Tenant,
        rules: SmsProtectionSettings,
        country: str,
        latest: CountrySuspension | None,
        kind: str,
        now: datetime,
    ) -> tuple[str, str, float]:
        """(this bucket's key, the previous bucket's, the share of this bucket gone by)."""
        # Counting starts afresh when a suspension ends: the codes that caused it are judged.
        since = 0 if latest is None or latest.until is None else int(latest.until.timestamp())
        seconds = rules.conversion_window_seconds
        bucket, into = divmod(now.timestamp(), seconds)
        base = f"sms-{kind}/{tenant.id}/{country}/{since}/{seconds}"
        return f"{base}/{int(bucket)}", f"{base}/{int(bucket) - 1}", into / seconds

    async def _recent(
        self,
        tenant: Tenant,
        rules: SmsProtectionSettings,
        country: str,
        latest: CountrySuspension | None,
        kind: str,
        now: datetime,
    ) -> float:
        """`kind` (`sent`, `verified`) over the sliding window, estimated from two buckets."""
        current, previous, gone = self._conversion_keys(tenant, rules, country, latest, kind, now)
        earlier = await self.counters.tally(previous)
        return await self.counters.tally(current) + earlier * (1 - gone)

    async def _count_recent(
        self,
        tenant: Tenant,
        rules: SmsProtectionSettings,
        country: str,
        kind: str,
        latest: CountrySuspension | None,
        now: datetime,
    ) -> None:
        current, _, _ = self._conversion_keys(tenant, rules, country, latest, kind, now)
        await self.counters.add(current, 2 * rules.conversion_window_seconds)

    def _keyed(self, digits: str) -> str:
        """A number or prefix as a key may hold it: keyed-hashed, as the rate limits do."""
        return keyed_hash(self._hash_key, digits)[:32]

    async def _acquire(
        self,
        tenant: Tenant,
        rules: SmsProtectionSettings,
        e164: str,
        country: str,
        leaves: bool,
        latest: CountrySuspension | None,
        now: datetime,
    ) -> None:
        day = now.date().isoformat()
        await self._check_caps(tenant, rules, country, day, now)
        if rules.prefix_limit > 0:
            await self._acquire_prefix(tenant, rules, e164, now)
        # Passed: counted today (both alike, so caps never tell accounts apart) and, when an
        # SMS really leaves, as sent for the conversion watch.
        await self.counters.add(self._day_key(tenant.id, day), _DAY + 3600)
        await self.counters.add(self._day_key(tenant.id, day, country), _DAY + 3600)
        if leaves:
            await self._count_recent(tenant, rules, country, "sent", latest, now)

    async def _acquire_prefix(
        self, tenant: Tenant, rules: SmsProtectionSettings, e164: str, now: datetime
    ) -> None:
        """Each number new to its prefix within the window takes one of the prefix's places:
        a range walk fills them, a user asking again for their own number does not. The
        prefix is keyed-hashed; a member is the number's last digits, which alone tell
        nothing (no number in clear in memory or Redis)."""
        seconds, digits = rules.prefix_window_seconds, rules.prefix_digits
        key = f"sms-prefix/{tenant.id}/{seconds}/{self._keyed(e164[:-digits])}"
        frees_at = await self.counters.admit_distinct(
            key, e164[-digits:], rules.prefix_limit, seconds
        )
        if frees_at is not None:
            raise PrefixRateLimitedError(retry_after=max(1, math.ceil(frees_at - now.timestamp())))

    async def _check_caps(
        self, tenant: Tenant, rules: SmsProtectionSettings, country: str, day: str, now: datetime
    ) -> None:
        """The daily caps, on today's counts (what the console shows): a cap set at noon
        counts the morning too. Concurrent sends may pass a cap by as many as run at once."""
        if rules.daily_limit is not None:
            hits = await self.counters.tally(self._day_key(tenant.id, day))
            if hits >= rules.daily_limit:
                raise self._cap_reached(tenant, "tenant", day, now)
        if rules.country_daily_limit is not None:
            hits = await self.counters.tally(self._day_key(tenant.id, day, country))
            if hits >= rules.country_daily_limit:
                raise self._cap_reached(tenant, "country", day, now)
        if rules.daily_cost_limit is not None:
            cost = await self._cost_today(tenant.id, rules, day)
            if cost + rules.price_of(country) > rules.daily_cost_limit + 1e-9:
                raise self._cap_reached(tenant, "cost", day, now)

    def _cap_reached(self, tenant: Tenant, cap: str, day: str, now: datetime) -> PhoneauthError:
        if (tenant.id, cap, day) not in self._alerted:
            # The alert: once per cap, day and process (the metric counts every refusal).
            self._alerted = {entry for entry in self._alerted if entry[2] == day}
            self._alerted.add((tenant.id, cap, day))
            log.warning("tenant %s: the daily SMS cap (%s) is reached for %s", tenant.id, cap, day)
        return DailyCapReachedError(cap=cap, retry_after=_seconds_to_midnight(now))

    @staticmethod
    def _day_key(tenant_id: str, day: str, country: str | None = None) -> str:
        return f"sms-day/{tenant_id}/{day}" + ("" if country is None else f"/{country}")

    async def _cost_today(self, tenant_id: str, rules: SmsProtectionSettings, day: str) -> float:
        """The price table's countries at their prices, every other SMS at the default one."""
        total = await self.counters.tally(self._day_key(tenant_id, day))
        cost = 0.0
        for country, price in rules.prices.items():
            hits = await self.counters.tally(self._day_key(tenant_id, day, country))
            cost += hits * price
            total -= hits
        return cost + max(0, total) * rules.default_price

    async def verified(self, tenant: Tenant, e164: str) -> None:
        """Count a verified code for the conversion watch (never for a test number)."""
        if tenant.settings.fixed_code_for(e164) is not None:
            return
        country = region_of(e164) or NO_REGION
        rules = tenant.settings.sms_protection
        try:
            latest = (await self.store.suspensions(tenant.id)).get(country)
            await self._count_recent(tenant, rules, country, "verified", latest, self.clock())
        except CountersUnavailableError:
            # The code is accepted all the same; the watch only misses one success.
            log.warning("SMS protection counters unreachable; a verified code was not counted")

    # --- the admin's side ----------------------------------------------------------------

    async def state(self, tenant: Tenant) -> ProtectionState:
        rules = tenant.settings.sms_protection
        now = self.clock()
        day = now.date().isoformat()
        messages = await self.counters.tally(self._day_key(tenant.id, day))
        latest = await self.store.suspensions(tenant.id)
        suspended = sorted(
            (found for found in latest.values() if found.active(now)), key=lambda s: s.country
        )
        shown = sorted(
            set(rules.prices) | set(rules.allowed_countries) | {s.country for s in suspended}
        )
        countries = []
        for country in shown:
            hits = await self.counters.tally(self._day_key(tenant.id, day, country))
            countries.append(CountryToday(country, hits, round(hits * rules.price_of(country), 4)))
        cost = None
        if rules.daily_cost_limit is not None:
            cost = round(await self._cost_today(tenant.id, rules, day), 4)
        return ProtectionState(day, messages, cost, countries, suspended)

    async def resume(self, tenant: Tenant, country: str) -> None:
        """End the country's suspension now; its conversion is judged afresh from here."""
        if not await self.store.end(tenant.id, _region(country), self.clock()):
            raise SuspensionNotFoundError(country=country)
        log.info("tenant %s: SMS to %s resumed by an admin", tenant.id, _region(country))

    async def suspend(self, tenant: Tenant, country: str, details: str | None = None) -> None:
        """Suspend the country until an admin resumes it."""
        region = _region(country)
        now = self.clock()
        await self.store.put(
            CountrySuspension(tenant.id, region, SuspensionReason.ADMIN.value, details, now, None)
        )
        self.metrics.country_suspended(tenant.id, region, SuspensionReason.ADMIN.value)
        log.warning("tenant %s: SMS to %s suspended by an admin", tenant.id, region)


def _region(country: str) -> str:
    region = country.strip().upper()
    if region != NO_REGION and region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidCountryError(country=country)
    return region
