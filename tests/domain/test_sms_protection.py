"""The SMS pumping defence on its own: every rule, with a simulated clock and memory counters."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from phoneauth.domain.metrics import NoMetrics
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.sms_protection import (
    CountryNotAllowedError,
    CountrySuspendedError,
    CountrySuspension,
    DailyCapReachedError,
    InvalidCountryError,
    NumberTypeNotAllowedError,
    PrefixRateLimitedError,
    SmsProtection,
    SuspensionNotFoundError,
)
from phoneauth.domain.sms_protection_settings import NumberType, number_type
from phoneauth.domain.tenants import Tenant, TenantKind, TenantSettings
from phoneauth.errors import PhoneauthError

DE_MOBILE = "+4915112345678"
LV_MOBILE = "+37125123456"
GB_PREMIUM = "+449098790123"
GB_FIXED = "+442079460000"
US_NUMBER = "+12015550123"
TOLL_FREE = "+18005551212"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Suspensions:
    """`SuspensionStore` in a dict (the SQL one has its own tests on both databases)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], CountrySuspension] = {}

    async def suspensions(self, tenant_id: str) -> dict[str, CountrySuspension]:
        return {c: s for (t, c), s in self.rows.items() if t == tenant_id}

    async def put(self, suspension: CountrySuspension) -> None:
        self.rows[(suspension.tenant_id, suspension.country)] = suspension

    async def end(self, tenant_id: str, country: str, now: datetime) -> bool:
        found = self.rows.get((tenant_id, country))
        if found is None or not found.active(now):
            return False
        self.rows[(tenant_id, country)] = CountrySuspension(
            tenant_id, country, found.reason, found.details, found.suspended_at, now
        )
        return True


class Refusals(NoMetrics):
    """The metrics the defence reports: refusals, and suspensions with why."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.suspended: list[tuple[str, str, str]] = []

    def sms_refused(self, tenant_id: str, country: str, reason: str) -> None:
        self.seen.append((tenant_id, country, reason))

    def country_suspended(self, tenant_id: str, country: str, reason: str) -> None:
        self.suspended.append((tenant_id, country, reason))


def tenant(tenant_id: str = "t1", **rules: Any) -> Tenant:
    settings = TenantSettings.model_validate({"smsProtection": rules})
    return Tenant(tenant_id, tenant_id, TenantKind.DEVELOPMENT, settings, datetime.now(UTC))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics() -> Refusals:
    return Refusals()


@pytest.fixture
def protection(clock: Clock, metrics: Refusals) -> SmsProtection:
    return SmsProtection(
        MemoryCounters(clock=clock.epoch),
        Suspensions(),
        hash_key=b"k" * 32,
        clock=clock,
        metrics=metrics,
    )


async def refusal(call: Any) -> PhoneauthError:
    with pytest.raises(PhoneauthError) as caught:
        await call
    return caught.value


def test_the_numbering_plan_names_each_type() -> None:
    assert number_type(DE_MOBILE) is NumberType.MOBILE
    assert number_type(US_NUMBER) is NumberType.FIXED_LINE_OR_MOBILE
    assert number_type(GB_PREMIUM) is NumberType.PREMIUM_RATE
    assert number_type(GB_FIXED) is NumberType.FIXED_LINE
    assert number_type(TOLL_FREE) is NumberType.TOLL_FREE


async def test_only_mobile_numbers_get_an_sms_by_default(
    protection: SmsProtection, metrics: Refusals
) -> None:
    plain = tenant()
    await protection.check(plain, DE_MOBILE, leaves=True)
    await protection.check(plain, US_NUMBER, leaves=True)  # the plan cannot tell: allowed
    for number, kind in ((GB_PREMIUM, "premiumRate"), (GB_FIXED, "fixedLine")):
        refused = await refusal(protection.check(plain, number, leaves=True))
        assert isinstance(refused, NumberTypeNotAllowedError)
        assert (refused.status, refused.details) == (422, {"numberType": kind})
    assert isinstance(
        await refusal(protection.check(plain, TOLL_FREE, leaves=True)), NumberTypeNotAllowedError
    )
    assert metrics.seen[0] == ("t1", "GB", "phone_number.type_not_allowed")
    await protection.check(tenant(allowedNumberTypes=["premiumRate"]), GB_PREMIUM, leaves=True)


async def test_countries_are_allowed_or_denied_by_the_lists(protection: SmsProtection) -> None:
    allow = tenant(allowedCountries=["de"])  # stored upper-case
    assert allow.settings.sms_protection.allowed_countries == ["DE"]
    await protection.check(allow, DE_MOBILE, leaves=True)
    refused = await refusal(protection.check(allow, LV_MOBILE, leaves=True))
    assert isinstance(refused, CountryNotAllowedError)
    assert (refused.status, refused.details) == (422, {"country": "LV"})
    deny = tenant(deniedCountries=["LV"])
    await protection.check(deny, DE_MOBILE, leaves=True)
    assert isinstance(
        await refusal(protection.check(deny, LV_MOBILE, leaves=True)), CountryNotAllowedError
    )


@pytest.mark.parametrize(
    "rules",
    [
        {"allowedCountries": ["XX"]},
        {"deniedCountries": ["DE", "DE"]},
        {"allowedCountries": ["DE"], "deniedCountries": ["DE"]},
        {"allowedNumberTypes": ["landline"]},
        {"prices": {"DE": -1}},
        {"conversionThreshold": 1.5},
        {"prefixDigits": 0},
    ],
)
def test_settings_that_make_no_sense_are_refused(rules: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TenantSettings.model_validate({"smsProtection": rules})


async def test_a_prefix_gets_its_budget_per_window_whatever_the_last_digits(
    protection: SmsProtection, clock: Clock
) -> None:
    plain = tenant(conversionThreshold=0)  # 10 numbers an hour per number minus 3 digits
    for last in range(10):
        await protection.check(plain, f"+4915112345{last:03d}", leaves=True)
    for _ in range(30):  # a user asking again and again for their own number: counted once
        await protection.check(plain, "+4915112345009", leaves=True)
    refused = await refusal(protection.check(plain, "+4915112345999", leaves=False))
    assert isinstance(refused, PrefixRateLimitedError)
    assert refused.status == 429
    assert refused.details["retry_after"] == 3600
    await protection.check(plain, "+4915112346000", leaves=True)  # the next block
    await protection.check(tenant("t2"), "+4915112345999", leaves=True)  # another tenant
    clock.advance(3601)
    await protection.check(plain, "+4915112345999", leaves=True)


async def test_daily_caps_stop_at_their_count_until_midnight_utc_and_alert_once(
    protection: SmsProtection, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    capped = tenant(dailyLimit=3, countryDailyLimit=2, prefixLimit=0)
    await protection.check(capped, DE_MOBILE, leaves=True)
    await protection.check(capped, "+4915112345679", leaves=False)  # counted all the same
    refused = await refusal(protection.check(capped, "+4915112345680", leaves=True))
    assert isinstance(refused, DailyCapReachedError)
    # 21:00 UTC: sending resumes in three hours.
    assert refused.details == {"cap": "country", "retry_after": 3 * 3600}
    await protection.check(capped, LV_MOBILE, leaves=True)
    with caplog.at_level(logging.WARNING, logger="phoneauth.sms_protection"):
        for _ in range(3):
            refused = await refusal(protection.check(capped, "+37125123457", leaves=True))
            assert refused.details["cap"] == "tenant"
    assert caplog.text.count("daily SMS cap (tenant) is reached") == 1
    state = await protection.state(capped)
    assert (state.day, state.messages) == ("2026-12-06", 3)
    clock.advance(3 * 3600)  # midnight UTC
    await protection.check(capped, "+37125123457", leaves=True)


async def test_the_cost_cap_prices_each_country_by_the_table(protection: SmsProtection) -> None:
    priced = tenant(dailyCostLimit=1.0, prices={"LV": 0.4}, defaultPrice=0.1, prefixLimit=0)
    await protection.check(priced, LV_MOBILE, leaves=True)
    await protection.check(priced, LV_MOBILE, leaves=True)  # 0.8 so far
    refused = await refusal(protection.check(priced, LV_MOBILE, leaves=True))
    assert isinstance(refused, DailyCapReachedError)
    assert refused.details["cap"] == "cost"
    await protection.check(priced, DE_MOBILE, leaves=True)  # 0.9
    await protection.check(priced, DE_MOBILE, leaves=True)  # 1.0
    assert isinstance(
        await refusal(protection.check(priced, DE_MOBILE, leaves=True)), DailyCapReachedError
    )
    state = await protection.state(priced)
    assert state.cost == pytest.approx(1.0)
    assert [(c.country, c.messages, c.cost) for c in state.countries] == [("LV", 2, 0.8)]


async def lv_sends(protection: SmsProtection, rules: Tenant, count: int, start: int = 0) -> None:
    for index in range(start, start + count):
        await protection.check(rules, f"+371250{index:05d}", leaves=True)


async def test_a_country_whose_codes_are_not_verified_is_suspended_for_a_while(
    protection: SmsProtection, clock: Clock, metrics: Refusals
) -> None:
    plain = tenant(prefixLimit=0)  # 20 sends, under 20 % verified: suspended for an hour
    await lv_sends(protection, plain, 18)
    for _ in range(2):
        await protection.verified(plain, LV_MOBILE)
    await lv_sends(protection, plain, 2, start=18)  # 2 of 20 verified: 10 %
    refused = await refusal(protection.check(plain, LV_MOBILE, leaves=True))
    assert isinstance(refused, CountrySuspendedError)
    assert refused.details == {"country": "LV", "retry_after": 3600}
    await protection.check(plain, DE_MOBILE, leaves=True)  # other countries: unaffected
    state = await protection.state(plain)
    [suspended] = state.suspended
    assert (suspended.country, suspended.reason) == ("LV", "low_conversion")
    assert suspended.details == (
        "2 of 20 codes sent in the last 60 minutes were verified (10 %, below 20 %)."
    )
    clock.advance(1800)
    assert (await refusal(protection.check(plain, LV_MOBILE, leaves=False))).details[
        "retry_after"
    ] == 1800
    clock.advance(1800)
    # The cool-down is over, and counting starts afresh: the old sends are not judged again.
    await lv_sends(protection, plain, 20, start=100)
    assert isinstance(
        await refusal(protection.check(plain, LV_MOBILE, leaves=True)), CountrySuspendedError
    )
    assert metrics.seen.count(("t1", "LV", "sms.country_suspended")) == 3
    # Each suspension is told once, with why: the first, and the one after the cool-down.
    assert metrics.suspended == [("t1", "LV", "low_conversion")] * 2


async def test_a_country_whose_codes_are_verified_stays_open(protection: SmsProtection) -> None:
    plain = tenant(prefixLimit=0)
    for index in range(100):
        await protection.check(plain, f"+371250{index:05d}", leaves=True)
        if index % 4:  # 75 % verified
            await protection.verified(plain, f"+371250{index:05d}")
    assert (await protection.state(plain)).suspended == []


async def test_sends_that_never_leave_are_not_judged(protection: SmsProtection) -> None:
    """A code kept silent for a number without account sends no SMS: the watch does not count
    it, while every refusal above treats both alike."""
    plain = tenant(prefixLimit=0)
    for index in range(50):
        await protection.check(plain, f"+371250{index:05d}", leaves=False)
    await protection.check(plain, LV_MOBILE, leaves=True)


async def test_an_admin_resumes_a_country_or_suspends_one_until_resumed(
    protection: SmsProtection, clock: Clock, metrics: Refusals
) -> None:
    forever = tenant(prefixLimit=0, suspensionSeconds=None)
    await lv_sends(protection, forever, 20)
    refused = await refusal(protection.check(forever, LV_MOBILE, leaves=True))
    assert refused.details == {"country": "LV"}  # no end: no Retry-After
    clock.advance(30 * 86_400)
    assert isinstance(
        await refusal(protection.check(forever, LV_MOBILE, leaves=True)), CountrySuspendedError
    )
    await protection.resume(forever, "lv")
    await protection.check(forever, LV_MOBILE, leaves=True)  # judged afresh
    with pytest.raises(SuspensionNotFoundError):
        await protection.resume(forever, "LV")
    await protection.suspend(forever, "DE", "Fraud seen by the carrier.")
    refused = await refusal(protection.check(forever, DE_MOBILE, leaves=True))
    assert isinstance(refused, CountrySuspendedError)
    [suspended] = (await protection.state(forever)).suspended
    assert (suspended.reason, suspended.details) == ("admin", "Fraud seen by the carrier.")
    assert metrics.suspended[-1] == ("t1", "DE", "admin")
    with pytest.raises(InvalidCountryError):
        await protection.suspend(forever, "Germany")


async def test_a_refusal_is_the_same_whether_or_not_an_sms_would_leave(
    protection: SmsProtection,
) -> None:
    """`leaves` is False for a number without account: the answer must not tell them apart."""
    rules = tenant(deniedCountries=["FR"], dailyLimit=1000)
    for number in (GB_PREMIUM, "+33612345678"):
        answers = [
            (type(error), error.details)
            for leaves in (True, False)
            for error in [await refusal(protection.check(rules, number, leaves=leaves))]
        ]
        assert answers[0] == answers[1]


async def test_the_code_engine_checks_before_any_code_and_spares_test_numbers(
    tmp_path: Any, clock: Clock
) -> None:
    """Through `VerificationCodes.send`: a refused send stores no code and sends nothing; a
    test number (`testPhoneNumbers`) is never judged, premium or not."""
    from tests.conftest import DatabaseUnderTest
    from tests.domain.codes_support import Source, make_tenant, migrated

    from phoneauth.connectors.providers import outbox
    from phoneauth.domain.message_log import MessageLog
    from phoneauth.domain.ports import ActiveConnector
    from phoneauth.domain.rate_limits import RateLimits
    from phoneauth.domain.verification_codes import VerificationCodes
    from phoneauth.storage.repositories.message_log import SqlMessageLogStore
    from phoneauth.storage.repositories.sms_protection import SqlSuspensionStore
    from phoneauth.storage.repositories.tenants import SqlTenantStore
    from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore

    database = await migrated(DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{tmp_path}/p.db"))
    try:
        counters = MemoryCounters(clock=clock.epoch)
        box = outbox.Outbox()
        connector = outbox.FACTORY.build({}, None, outbox=box)
        store = SqlVerificationCodeStore(database)
        codes = VerificationCodes(
            store=store,
            message_log=MessageLog(SqlMessageLogStore(database)),
            rate_limits=RateLimits(counters, hash_key=b"k" * 32),
            hash_key=b"k" * 32,
            connectors=Source({"t1": ActiveConnector("row", outbox.FACTORY.id, connector)}),
            tenants=SqlTenantStore(database),
            clock=clock,
            protection=SmsProtection(
                counters, SqlSuspensionStore(database), hash_key=b"k" * 32, clock=clock
            ),
        )
        rules = await make_tenant(
            database, "t1", testPhoneNumbers=[{"phone": GB_PREMIUM, "code": "123456"}]
        )
        with pytest.raises(NumberTypeNotAllowedError):
            await codes.send(rules, GB_FIXED, "SignIn")
        assert await store.find_live("t1", GB_FIXED, "SignIn", "") is None
        assert box.messages() == []
        await codes.send(rules, GB_PREMIUM, "SignIn")  # a test number: its fixed code
        await codes.verify(rules, GB_PREMIUM, "SignIn", "123456")
    finally:
        await database.dispose()
