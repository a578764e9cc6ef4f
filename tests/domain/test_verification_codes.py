"""The code engine over real storage (SQLite and PostgreSQL): issue, send, verify, expire, race."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests import local_http
from tests.domain.codes_support import (
    OTHER_PHONE,
    PHONE,
    Clock,
    Source,
    make_codes,
    make_tenant,
    other_code,
    outbox_connector,
)

from phoneauth.connectors import (
    AuthorizationFailedError,
    ConnectorError,
    SendResult,
    SmsMessage,
    UsageType,
)
from phoneauth.connectors.providers import outbox, twilio
from phoneauth.domain.message_log import MessageStatus
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.rate_limit_counters import RateLimitCounters
from phoneauth.domain.rate_limits import MessageRateLimitedError, VerificationBlockedError
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.verification_codes import (
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
    CodeNotFoundError,
    Delivery,
    NoSmsConnectorError,
    PruneResult,
    VerificationCodeError,
    VerificationCodes,
    run_retention,
)
from phoneauth.storage.database import Database
from phoneauth.storage.models import MessageLogRow, VerificationCodeRow


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client() as client:
        yield client


@pytest.fixture
def box() -> outbox.Outbox:
    return outbox.Outbox()


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    return await make_tenant(database, "default")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source(client: httpx.AsyncClient, box: outbox.Outbox, tenant: Tenant) -> Source:
    return Source({tenant.id: outbox_connector(client, box)})


@pytest.fixture
def codes(database: Database, source: Source, clock: Clock) -> VerificationCodes:
    return make_codes(database, source, clock)


def delivered(box: outbox.Outbox, phone: str = PHONE) -> str:
    message = box.latest(phone)
    assert message is not None
    assert message.code is not None
    return message.code


async def code_rows(database: Database) -> list[VerificationCodeRow]:
    async with AsyncSession(database.engine) as session:
        return list(await session.scalars(select(VerificationCodeRow)))


async def log_rows(database: Database) -> list[MessageLogRow]:
    async with AsyncSession(database.engine) as session:
        return list(await session.scalars(select(MessageLogRow)))


async def error_of(call: Any) -> VerificationCodeError:
    with pytest.raises(VerificationCodeError) as info:
        await call
    return info.value


# --- issuing and sending ----------------------------------------------------------------------


async def test_a_sent_code_is_six_digits_stored_only_as_a_keyed_hash(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    sent = await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    assert len(code) == 6
    assert code.isdigit()
    assert sent.phone == PHONE
    assert sent.provider_message_id == box.latest(PHONE).id  # type: ignore[union-attr]
    [row] = await code_rows(database)
    assert row.phone == PHONE
    assert row.usage_type == "SignIn"
    assert len(row.code_hash) == 64
    assert code not in row.code_hash
    assert row.try_count == 0
    assert row.consumed_at is None
    assert row.expires_at == sent.expires_at


async def test_digits_only_phone_numbers_are_stored_and_sent_as_e164(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    await codes.send(tenant, "4915112345678", UsageType.GENERIC)
    assert box.latest(PHONE) is not None
    [row] = await code_rows(database)
    assert row.phone == PHONE
    await codes.verify(tenant, "004915112345678", UsageType.GENERIC, delivered(box))


async def test_an_invalid_phone_number_is_refused_before_anything_happens(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    with pytest.raises(InvalidPhoneNumberError) as info:
        await codes.send(tenant, "+49123", UsageType.GENERIC)
    assert info.value.code == "phone_number.invalid"
    assert info.value.status == 400
    assert box.messages() == []
    assert await code_rows(database) == []


async def test_the_payload_carries_the_code_the_locale_and_the_client_ip(
    codes: VerificationCodes, tenant: Tenant, source: Source
) -> None:
    seen: list[SmsMessage] = []

    class Recording:
        async def send(self, message: SmsMessage) -> SendResult:
            seen.append(message)
            return SendResult(provider_message_id="m-1")

    source.active[tenant.id] = ActiveConnector("row-1", "recording", Recording())
    await codes.send(tenant, PHONE, UsageType.REGISTER, ip="203.0.113.9", locale="de")
    [message] = seen
    assert set(message.payload) == {"code", "locale"}
    assert message.payload["locale"] == "de"
    assert message.ip == "203.0.113.9"
    assert message.usage_type is UsageType.REGISTER
    await codes.send(tenant, PHONE, UsageType.REGISTER)
    assert set(seen[1].payload) == {"code"}
    assert seen[1].ip is None


async def test_extra_variables_are_rendered_like_the_code_but_never_replace_it(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, source: Source, client: Any
) -> None:
    config = {
        "templates": [
            {"usageType": "Generic", "content": "{{code}} at {{link}} ({{locale}})"},
        ]
    }
    source.active[tenant.id] = ActiveConnector(
        "row-outbox", outbox.FACTORY.id, outbox.FACTORY.build(config, client, outbox=box)
    )
    link = "https://id.example.com/invitations/abc"
    await codes.send(tenant, PHONE, UsageType.GENERIC, locale="de", variables={"link": link})
    code = delivered(box)
    assert box.latest(PHONE).text == f"{code} at {link} (de)"  # type: ignore[union-attr]
    # A variable named like the code or the locale is dropped: the code is the engine's own.
    forged = {"code": "123456", "locale": "xx", "link": link}
    await codes.send(tenant, PHONE, UsageType.GENERIC, variables=forged)
    code = delivered(box)
    assert box.latest(PHONE).payload == {"code": code, "link": link}  # type: ignore[union-attr]
    await codes.verify(tenant, PHONE, UsageType.GENERIC, code)


async def test_a_new_code_replaces_the_waiting_one_of_the_same_phone_usage_and_scope(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    await codes.send(tenant, PHONE, UsageType.REGISTER)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN, scope="flow-1")
    await codes.send(tenant, OTHER_PHONE, UsageType.SIGN_IN)
    assert len(await code_rows(database)) == 4
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    rows = await code_rows(database)
    assert len(rows) == 4
    sign_in = [r for r in rows if (r.phone, r.usage_type, r.scope) == (PHONE, "SignIn", "")]
    assert len(sign_in) == 1
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, delivered(box))


async def test_no_connector_is_501_and_keeps_the_waiting_code(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, source: Source, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.GENERIC)
    waiting = delivered(box)
    source.active.clear()
    with pytest.raises(NoSmsConnectorError) as info:
        await codes.send(tenant, PHONE, UsageType.GENERIC)
    assert info.value.code == "connector.not_found"
    assert info.value.status == 501
    assert info.value.message == "Cannot find any available connector for type: Sms."
    assert info.value.details == {"type": "Sms"}
    failed = [row for row in await log_rows(database) if row.status == "failed"]
    assert [(row.error_code, row.connector_id, row.factory_id) for row in failed] == [
        ("connector.not_found", None, None)
    ]
    await codes.verify(tenant, PHONE, UsageType.GENERIC, waiting)


def twilio_answering(status: int, body: dict[str, Any], seen: list[httpx.Request]) -> Any:
    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(provider)


async def test_a_provider_failure_reaches_the_caller_and_is_logged_as_failed(
    codes: VerificationCodes, tenant: Tenant, source: Source, database: Database
) -> None:
    seen: list[httpx.Request] = []
    body = {"code": 20003, "message": "Authenticate", "status": 401}
    async with httpx.AsyncClient(transport=twilio_answering(401, body, seen)) as client:
        connector = twilio.FACTORY.build(twilio.FACTORY.sample_config, client)
        source.active[tenant.id] = ActiveConnector("row-tw", twilio.FACTORY.id, connector)
        with pytest.raises(AuthorizationFailedError) as info:
            await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    assert info.value.code == "connector.authorization_failed"
    assert len(seen) == 1
    [row] = await log_rows(database)
    assert row.status == "failed"
    assert row.error_code == "connector.authorization_failed"
    assert row.error_message == info.value.message
    assert (row.connector_id, row.factory_id) == ("row-tw", "twilio-short-message-service")
    assert row.phone_masked == "+4915*****5678"
    assert row.usage_type == "SignIn"
    assert row.latency_ms is not None
    assert row.latency_ms >= 0
    assert row.provider_message_id is None


async def test_a_send_the_provider_refused_keeps_the_waiting_code(
    codes: VerificationCodes, tenant: Tenant, source: Source, box: outbox.Outbox
) -> None:
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    waiting = delivered(box)
    working = source.active[tenant.id]
    seen: list[httpx.Request] = []
    body = {"code": 20429, "message": "Service unavailable", "status": 503}
    async with httpx.AsyncClient(transport=twilio_answering(503, body, seen)) as client:
        connector = twilio.FACTORY.build(twilio.FACTORY.sample_config, client)
        source.active[tenant.id] = ActiveConnector("row-tw", twilio.FACTORY.id, connector)
        with pytest.raises(ConnectorError):
            await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    assert len(seen) == 1
    source.active[tenant.id] = working
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, waiting)


class HeldConnector:
    """Takes each SMS, then waits until the test lets the provider answer (or fail)."""

    def __init__(self, error: ConnectorError | None = None) -> None:
        self.release = asyncio.Event()
        self.messages: list[SmsMessage] = []
        self.error = error

    async def send(self, message: SmsMessage) -> SendResult:
        self.messages.append(message)
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return SendResult(provider_message_id="held-1")


async def test_a_background_send_answers_with_the_code_stored_before_the_provider_answers(
    codes: VerificationCodes, tenant: Tenant, source: Source, database: Database
) -> None:
    held = HeldConnector()
    source.active[tenant.id] = ActiveConnector("row-held", "held", held)
    sent = await codes.send(tenant, PHONE, UsageType.FORGOT_PASSWORD, delivery=Delivery.BACKGROUND)
    assert sent.provider_message_id is None
    await asyncio.sleep(0)  # the send starts
    [message] = held.messages
    assert await log_rows(database) == []  # the provider has not answered yet
    # The code was stored before the answer: it works before the SMS has even left.
    await codes.verify(tenant, PHONE, UsageType.FORGOT_PASSWORD, message.payload["code"])
    held.release.set()
    await codes.background.wait()
    [row] = await log_rows(database)
    assert (row.status, row.provider_message_id, row.factory_id) == ("sent", "held-1", "held")


async def test_a_failed_background_send_is_logged_without_the_number_or_the_code(
    codes: VerificationCodes,
    tenant: Tenant,
    source: Source,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    held = HeldConnector(AuthorizationFailedError())
    held.release.set()
    source.active[tenant.id] = ActiveConnector("row-held", "held", held)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN, delivery=Delivery.BACKGROUND)
    await codes.background.wait()
    [row] = await log_rows(database)
    assert (row.status, row.error_code) == ("failed", "connector.authorization_failed")
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "connector.authorization_failed" in warning.getMessage()
    code = held.messages[0].payload["code"]
    assert all(PHONE not in r.getMessage() and code not in r.getMessage() for r in caplog.records)


async def test_shutdown_cancels_a_background_send_that_outlives_the_grace_and_logs_it(
    codes: VerificationCodes, tenant: Tenant, source: Source, database: Database
) -> None:
    held = HeldConnector()  # never released: a provider that does not answer
    source.active[tenant.id] = ActiveConnector("row-held", "held", held)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN, delivery=Delivery.BACKGROUND)
    await asyncio.sleep(0)
    await codes.background.drain(grace=0.1)
    assert codes.background.tasks == set()
    [row] = await log_rows(database)
    assert (row.status, row.error_code) == ("failed", "connector.general")
    assert "stopped" in (row.error_message or "")


async def test_a_send_without_delivery_stores_the_code_and_sends_nothing(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.FORGOT_PASSWORD, delivery=Delivery.NONE)
    assert box.messages(PHONE) == []
    assert len(await code_rows(database)) == 1
    assert await log_rows(database) == []


async def test_a_connector_breaking_the_contract_becomes_a_connector_error(
    codes: VerificationCodes, tenant: Tenant, source: Source, database: Database
) -> None:
    class Broken:
        async def send(self, message: SmsMessage) -> SendResult:
            raise KeyError(str(message.payload["code"]))

    source.active[tenant.id] = ActiveConnector("row-b", "broken", Broken())
    with pytest.raises(ConnectorError) as info:
        await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    assert info.value.code == "connector.general"
    assert info.value.status == 502
    [row] = await log_rows(database)
    assert (row.status, row.error_code, row.factory_id) == ("failed", "connector.general", "broken")


async def test_a_successful_send_is_logged_with_the_provider_message_id(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.FORGOT_PASSWORD)
    [row] = await log_rows(database)
    assert row.status == MessageStatus.SENT.value
    assert row.provider_message_id == box.latest(PHONE).id  # type: ignore[union-attr]
    assert (row.connector_id, row.factory_id) == ("row-outbox", "outbox-sms")
    assert row.usage_type == "ForgotPassword"
    assert row.error_code is None
    assert row.tenant_id == "default"


async def test_a_rate_limited_send_neither_creates_nor_deletes_a_code(
    database: Database, client: httpx.AsyncClient, box: outbox.Outbox, clock: Clock
) -> None:
    tenant = await make_tenant(database, "limited", rateLimits={"recipientLimit": 2})
    codes = make_codes(database, Source({tenant.id: outbox_connector(client, box)}), clock)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    waiting = delivered(box)
    before = [(row.id, row.code_hash) for row in await code_rows(database)]
    with pytest.raises(MessageRateLimitedError) as info:
        await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    assert info.value.status == 429
    assert info.value.code == "request.message_rate_limited"
    assert 0 < info.value.details["retry_after"] <= 600  # type: ignore[operator]
    assert [(row.id, row.code_hash) for row in await code_rows(database)] == before
    assert len(box.messages()) == 2
    assert len(await log_rows(database)) == 2
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, waiting)


# --- verifying: Logto's checks in Logto's order ------------------------------------------------


async def test_the_right_code_verifies_once(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, code)
    [row] = await code_rows(database)
    assert row.consumed_at is not None
    assert row.try_count == 0
    error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, code))
    assert error.code == "verification_code.not_found"


async def test_not_found_without_a_code_for_this_phone_usage_scope_or_tenant(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.SIGN_IN, scope="flow-1")
    code = delivered(box)
    other_tenant = await make_tenant(database, "other")
    for call in (
        codes.verify(tenant, OTHER_PHONE, UsageType.SIGN_IN, code, scope="flow-1"),
        codes.verify(tenant, PHONE, UsageType.REGISTER, code, scope="flow-1"),
        codes.verify(tenant, PHONE, UsageType.SIGN_IN, code),
        codes.verify(other_tenant, PHONE, UsageType.SIGN_IN, code, scope="flow-1"),
    ):
        error = await error_of(call)
        assert isinstance(error, CodeNotFoundError)
        assert error.status == 400
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, code, scope="flow-1")


async def test_a_wrong_code_is_a_mismatch_and_counts_a_try(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    for tries in (1, 2):
        error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(code)))
        assert isinstance(error, CodeMismatchError)
        assert error.code == "verification_code.code_mismatch"
        [row] = await code_rows(database)
        assert row.try_count == tries
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, code)
    [row] = await code_rows(database)
    assert row.try_count == 2


async def test_the_code_expires_after_the_tenant_lifetime_by_the_injected_clock(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox, clock: Clock, database: Database
) -> None:
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    clock.advance(600)  # Logto: expired only once created_at + lifetime < now
    await codes.send(tenant, OTHER_PHONE, UsageType.SIGN_IN)
    await codes.verify(tenant, OTHER_PHONE, UsageType.SIGN_IN, delivered(box, OTHER_PHONE))
    error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(code)))
    assert isinstance(error, CodeMismatchError)
    clock.advance(1)
    error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, code))
    assert isinstance(error, CodeExpiredError)
    assert error.code == "verification_code.expired"

    short = await make_tenant(database, "short", verificationCodePolicy={"expirationDuration": 60})
    source = Source({short.id: codes.connectors.active["default"]})  # type: ignore[attr-defined]
    codes.connectors = source
    await codes.send(short, PHONE, UsageType.SIGN_IN)
    clock.advance(61)
    error = await error_of(codes.verify(short, PHONE, UsageType.SIGN_IN, delivered(box)))
    assert isinstance(error, CodeExpiredError)


async def test_after_max_tries_even_the_right_code_is_refused(
    database: Database, client: httpx.AsyncClient, box: outbox.Outbox, clock: Clock
) -> None:
    tenant = await make_tenant(database, "strict", verificationCodePolicy={"maxRetryAttempts": 3})
    codes = make_codes(database, Source({tenant.id: outbox_connector(client, box)}), clock)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    for _ in range(3):
        error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(code)))
        assert isinstance(error, CodeMismatchError)
    for attempt in (code, other_code(code)):
        error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, attempt))
        assert isinstance(error, CodeMaxTriesError)
        assert error.code == "verification_code.exceed_max_try"
    [row] = await code_rows(database)
    assert row.try_count == 3


async def test_the_last_allowed_try_may_still_be_right(
    codes: VerificationCodes, tenant: Tenant, box: outbox.Outbox
) -> None:
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    for _ in range(9):
        await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(code)))
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, code)


async def test_expired_is_checked_before_max_tries_and_not_found_before_expired(
    database: Database, client: httpx.AsyncClient, box: outbox.Outbox, clock: Clock
) -> None:
    tenant = await make_tenant(database, "order", verificationCodePolicy={"maxRetryAttempts": 1})
    codes = make_codes(database, Source({tenant.id: outbox_connector(client, box)}), clock)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(code)))
    error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, code))
    assert isinstance(error, CodeMaxTriesError)
    clock.advance(601)
    error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, code))
    assert isinstance(error, CodeExpiredError)

    await codes.send(tenant, OTHER_PHONE, UsageType.SIGN_IN)
    used = delivered(box, OTHER_PHONE)
    await codes.verify(tenant, OTHER_PHONE, UsageType.SIGN_IN, used)
    clock.advance(601)
    error = await error_of(codes.verify(tenant, OTHER_PHONE, UsageType.SIGN_IN, used))
    assert isinstance(error, CodeNotFoundError)


async def test_the_limit_th_wrong_code_is_a_mismatch_that_locks_the_number_for_codes_and_sends(
    database: Database,
    client: httpx.AsyncClient,
    box: outbox.Outbox,
    clock: Clock,
    counters: RateLimitCounters,
) -> None:
    """`failedVerificationLimit` 3: three wrong codes are each answered as mismatches (the
    third locks), and the fourth attempt, right code or new send, is the one refused."""
    tenant = await make_tenant(
        database, "locking", rateLimits={"failedVerificationLimit": 3, "lockoutSeconds": 900}
    )
    source = Source({tenant.id: outbox_connector(client, box)})
    codes = make_codes(database, source, clock, counters)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    first = delivered(box)
    for _ in range(2):
        await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(first)))
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)  # a new code does not reset the count
    code = delivered(box)
    third = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(code)))
    assert isinstance(third, CodeMismatchError)
    with pytest.raises(VerificationBlockedError) as info:
        await codes.verify(tenant, PHONE, UsageType.SIGN_IN, code)
    assert info.value.code == "session.verification_blocked_too_many_attempts"
    assert info.value.status == 429
    assert 890 <= info.value.retry_after <= 900
    sent_before = len(box.messages(PHONE))
    with pytest.raises(VerificationBlockedError):
        await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    assert len(box.messages(PHONE)) == sent_before  # no SMS to a locked number
    await codes.send(tenant, OTHER_PHONE, UsageType.SIGN_IN)
    await codes.verify(tenant, OTHER_PHONE, UsageType.SIGN_IN, delivered(box, OTHER_PHONE))


# --- concurrency: one winner, bounded guesses ---------------------------------------------------


async def _race(calls: list[Any]) -> list[BaseException | None]:
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def test_a_hundred_concurrent_right_codes_give_exactly_one_success(
    source: Source,
    clock: Clock,
    counters: RateLimitCounters,
    tenant: Tenant,
    box: outbox.Outbox,
    database: Database,
) -> None:
    codes = make_codes(database, source, clock, counters)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    results = await _race(
        [codes.verify(tenant, PHONE, UsageType.SIGN_IN, code) for _ in range(100)]
    )
    assert results.count(None) == 1
    losers = [result for result in results if result is not None]
    assert all(isinstance(r, CodeNotFoundError | CodeMaxTriesError) for r in losers), losers
    [row] = await code_rows(database)
    assert row.consumed_at is not None


async def test_with_enough_tries_every_concurrent_loser_is_told_not_found(
    database: Database, client: httpx.AsyncClient, box: outbox.Outbox, clock: Clock
) -> None:
    tenant = await make_tenant(database, "roomy", verificationCodePolicy={"maxRetryAttempts": 100})
    codes = make_codes(database, Source({tenant.id: outbox_connector(client, box)}), clock)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    results = await _race(
        [codes.verify(tenant, PHONE, UsageType.SIGN_IN, code) for _ in range(100)]
    )
    assert results.count(None) == 1
    assert sum(isinstance(r, CodeNotFoundError) for r in results) == 99


async def test_a_burst_of_wrong_guesses_compares_at_most_max_tries_times(
    source: Source,
    clock: Clock,
    counters: RateLimitCounters,
    tenant: Tenant,
    box: outbox.Outbox,
    database: Database,
) -> None:
    codes = make_codes(database, source, clock, counters)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    code = delivered(box)
    wrong = other_code(code)
    results = await _race(
        [codes.verify(tenant, PHONE, UsageType.SIGN_IN, wrong) for _ in range(50)]
    )
    assert sum(isinstance(r, CodeMismatchError) for r in results) == 10
    assert sum(isinstance(r, CodeMaxTriesError) for r in results) == 40
    [row] = await code_rows(database)
    assert row.try_count == 10
    error = await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, code))
    assert isinstance(error, CodeMaxTriesError)


# --- secrecy and retention ---------------------------------------------------------------------


async def test_the_code_never_reaches_a_log_record_or_a_log_row(
    codes: VerificationCodes,
    tenant: Tenant,
    box: outbox.Outbox,
    source: Source,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    first = delivered(box)
    await error_of(codes.verify(tenant, PHONE, UsageType.SIGN_IN, other_code(first)))
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, first)

    class Leaky:
        async def send(self, message: SmsMessage) -> SendResult:
            leaky.append(str(message.payload["code"]))
            raise RuntimeError(f"cannot send {message.payload['code']}")

    leaky: list[str] = []
    source.active[tenant.id] = ActiveConnector("row-l", "leaky", Leaky())
    with pytest.raises(ConnectorError):
        await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    assert caplog.records
    for code in (first, *leaky):
        for record in caplog.records:
            assert code not in record.getMessage()
            assert code not in str(record.__dict__)
        for row in await log_rows(database):
            assert code not in str({c: getattr(row, c) for c in row.__table__.columns.keys()})  # noqa: SIM118


async def test_prune_deletes_finished_codes_and_logs_past_each_tenant_retention(
    database: Database, client: httpx.AsyncClient, box: outbox.Outbox, clock: Clock
) -> None:
    brief = await make_tenant(database, "brief", messageLogRetentionDays=1)
    long = await make_tenant(database, "long", messageLogRetentionDays=30)
    source = Source({t.id: outbox_connector(client, box) for t in (brief, long)})
    codes = make_codes(database, source, clock)
    for tenant in (brief, long):
        await codes.send(tenant, PHONE, UsageType.SIGN_IN)  # will expire
        await codes.send(tenant, OTHER_PHONE, UsageType.SIGN_IN)  # will be used
        await codes.verify(tenant, OTHER_PHONE, UsageType.SIGN_IN, delivered(box, OTHER_PHONE))
    clock.advance(2 * 86_400)
    for tenant in (brief, long):
        await codes.send(tenant, PHONE, UsageType.REGISTER)  # live, logged today
    result = await codes.prune()
    assert (result.codes, result.messages) == (4, 2)
    remaining = await code_rows(database)
    assert sorted((r.tenant_id, r.usage_type) for r in remaining) == [
        ("brief", "Register"),
        ("long", "Register"),
    ]
    logs = await log_rows(database)
    assert sorted(r.tenant_id for r in logs) == ["brief", "long", "long", "long"]
    assert await codes.prune() == type(result)(0, 0)


async def test_the_retention_loop_prunes_periodically_and_survives_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[datetime | None] = []
    four_runs = asyncio.Event()

    class Codes:
        async def prune(self, now: datetime | None = None) -> PruneResult:
            calls.append(now)
            if len(calls) == 4:
                four_runs.set()
            if len(calls) == 2:
                raise RuntimeError("database away")
            return PruneResult(1, 2)

    task = asyncio.create_task(
        run_retention(Codes(), every=0.01, first_after=0)  # type: ignore[arg-type]
    )
    await asyncio.wait_for(four_runs.wait(), timeout=60)  # ~40 ms unless the machine is busy
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert any("pruning failed" in r.getMessage() for r in caplog.records)
