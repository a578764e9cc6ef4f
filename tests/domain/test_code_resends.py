"""Resend that keeps the code (issue 16), over real storage (SQLite and PostgreSQL): the same
code sent again within its validity, one attempt budget, the cooldown on an injected clock,
racing resends, and a refused resend that leaves everything as it was."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.domain.codes_support import PHONE, Clock, Source, make_codes, make_tenant, other_code

from phoneauth.connectors import AuthorizationFailedError, SendResult, SmsMessage, UsageType
from phoneauth.crypto import ConfigCipher
from phoneauth.domain.code_resends import ResendTooSoonError
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.verification_codes import (
    CodeMaxTriesError,
    CodeMismatchError,
    Delivery,
    VerificationCodes,
)
from phoneauth.errors import PhoneauthError
from phoneauth.storage.database import Database
from phoneauth.storage.models import VerificationCodeRow

SIGN_IN = UsageType.SIGN_IN


class Phone:
    """A connector that records every SMS (or refuses while `refusing`)."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.refusing = False

    async def send(self, message: SmsMessage) -> SendResult:
        if self.refusing:
            raise AuthorizationFailedError()
        self.codes.append(message.payload["code"])
        return SendResult(provider_message_id=f"m{len(self.codes)}")


@pytest.fixture
def phone() -> Phone:
    return Phone()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source(phone: Phone) -> Source:
    return Source({"keep": ActiveConnector("row", "recording", phone)})


@pytest.fixture
def codes(database: Database, source: Source, clock: Clock) -> VerificationCodes:
    return make_codes(database, source, clock, sealer=ConfigCipher(b"s" * 32))


async def keeping(database: Database, **policy: object) -> Tenant:
    """Tenant `keep`: codes kept across resends, a 60 s cooldown unless `policy` says else."""
    return await make_tenant(
        database, "keep", verificationCodePolicy={"resendCooldownSeconds": 60, **policy}
    )


async def rows(database: Database) -> list[VerificationCodeRow]:
    async with AsyncSession(database.engine) as session:
        return list(await session.scalars(select(VerificationCodeRow)))


async def test_a_resend_after_the_cooldown_sends_the_same_code_with_its_expiry(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    tenant = await keeping(database)
    first = await codes.send(tenant, PHONE, SIGN_IN)
    clock.advance(60)
    again = await codes.send(tenant, PHONE, SIGN_IN)
    assert len(phone.codes) == 2
    assert phone.codes[0] == phone.codes[1]
    assert again.expires_at == first.expires_at  # not extended
    [row] = await rows(database)
    assert (row.send_count, row.last_sent_at) == (2, clock.now)
    assert row.code_sealed is not None
    assert phone.codes[0] not in row.code_sealed
    # Either message works: it is one code; once used, its sealed copy is gone.
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[0])
    [row] = await rows(database)
    assert row.code_sealed is None


async def test_one_attempt_budget_across_resends(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    tenant = await keeping(database, maxRetryAttempts=3, resendCooldownSeconds=0)
    await codes.send(tenant, PHONE, SIGN_IN)
    wrong = other_code(phone.codes[0])
    for _ in range(2):
        with pytest.raises(CodeMismatchError):
            await codes.verify(tenant, PHONE, SIGN_IN, wrong)
    await codes.send(tenant, PHONE, SIGN_IN)  # the same code, two tries used
    assert phone.codes[1] == phone.codes[0]
    with pytest.raises(CodeMismatchError):
        await codes.verify(tenant, PHONE, SIGN_IN, wrong)
    with pytest.raises(CodeMaxTriesError):
        await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[0])
    # A spent code is not resent: the next send brings a new one, with a fresh budget.
    await codes.send(tenant, PHONE, SIGN_IN)
    [row] = await rows(database)
    assert (row.try_count, row.send_count) == (0, 1)
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[2])


async def test_the_cooldown_answers_the_seconds_left_on_the_injected_clock(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    tenant = await keeping(database)
    await codes.send(tenant, PHONE, SIGN_IN)
    clock.advance(17.5)
    with pytest.raises(ResendTooSoonError) as info:
        await codes.send(tenant, PHONE, SIGN_IN)
    assert (info.value.status, info.value.code) == (429, "verification_code.resend_too_soon")
    assert info.value.details == {"retry_after": 43}  # 42.5 s, rounded up
    # Another purpose, scope or number has its own cooldown.
    await codes.send(tenant, PHONE, UsageType.REGISTER)
    await codes.send(tenant, PHONE, SIGN_IN, scope="record-2")
    clock.advance(42.5)
    await codes.send(tenant, PHONE, SIGN_IN)
    assert len(phone.codes) == 4


async def test_after_expiry_or_use_a_send_brings_a_new_code(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    tenant = await keeping(database, expirationDuration=60)
    first = await codes.send(tenant, PHONE, SIGN_IN)
    [before] = await rows(database)
    clock.advance(61)
    second = await codes.send(tenant, PHONE, SIGN_IN)
    [after] = await rows(database)
    assert after.id != before.id
    assert second.expires_at > first.expires_at
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[1])
    # Used: no cooldown holds a new code back.
    await codes.send(tenant, PHONE, SIGN_IN)
    live = [row for row in await rows(database) if row.consumed_at is None]
    assert [row.send_count for row in live] == [1]
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[2])


async def test_with_the_setting_off_every_send_is_a_new_code_and_none_is_sealed(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    tenant = await keeping(database, resendKeepsCode=False)
    await codes.send(tenant, PHONE, SIGN_IN)
    [first] = await rows(database)
    with pytest.raises(ResendTooSoonError):
        await codes.send(tenant, PHONE, SIGN_IN)  # the cooldown holds either way
    clock.advance(60)
    await codes.send(tenant, PHONE, SIGN_IN)
    [second] = await rows(database)
    assert second.id != first.id
    assert first.code_sealed is None
    assert second.code_sealed is None
    with pytest.raises(CodeMismatchError):
        await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[0])  # unless equal by chance
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[1])


async def test_racing_resends_send_once_and_leave_one_code(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    tenant = await keeping(database)
    await codes.send(tenant, PHONE, SIGN_IN)
    clock.advance(60)
    results = await asyncio.gather(
        *(codes.send(tenant, PHONE, SIGN_IN) for _ in range(4)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, PhoneauthError)]
    assert len(refused) == 3
    assert all(isinstance(r, ResendTooSoonError) for r in refused)
    assert len(phone.codes) == 2
    assert len(set(phone.codes)) == 1
    [row] = await rows(database)
    assert row.send_count == 2


async def test_a_refused_resend_leaves_the_code_and_the_cooldown_as_they_were(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    tenant = await keeping(database)
    await codes.send(tenant, PHONE, SIGN_IN)
    [before] = await rows(database)
    clock.advance(60)
    phone.refusing = True
    with pytest.raises(AuthorizationFailedError):
        await codes.send(tenant, PHONE, SIGN_IN)
    [after] = await rows(database)
    assert (after.id, after.send_count, after.last_sent_at) == (
        before.id,
        1,
        before.last_sent_at,
    )
    phone.refusing = False
    await codes.send(tenant, PHONE, SIGN_IN)  # at once: the refused send started no cooldown
    assert phone.codes == [phone.codes[0]] * 2
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[0])


async def test_a_number_without_account_keeps_the_same_rules_unsent(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    """`Delivery.NONE` (Logto's anti-enumeration): stored and counted as if sent."""
    tenant = await keeping(database)
    await codes.send(tenant, PHONE, SIGN_IN, delivery=Delivery.NONE)
    with pytest.raises(ResendTooSoonError):
        await codes.send(tenant, PHONE, SIGN_IN, delivery=Delivery.NONE)
    clock.advance(60)
    await codes.send(tenant, PHONE, SIGN_IN, delivery=Delivery.NONE)
    [row] = await rows(database)
    assert row.send_count == 2
    assert phone.codes == []


async def test_neither_the_code_nor_its_sealed_copy_is_logged(
    codes: VerificationCodes,
    database: Database,
    phone: Phone,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = await keeping(database, resendCooldownSeconds=0)
    await codes.send(tenant, PHONE, SIGN_IN)
    await codes.send(tenant, PHONE, SIGN_IN)
    [row] = await rows(database)
    assert row.code_sealed is not None
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert phone.codes[0] not in text
    assert row.code_sealed not in text


async def test_a_resend_under_a_new_scope_moves_the_same_code_there_once_sent(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    """The Experience API gives every send a new record (Logto's): the code follows it."""
    tenant = await keeping(database)
    await codes.send(tenant, PHONE, SIGN_IN, scope="record-1")
    with pytest.raises(ResendTooSoonError):
        await codes.send(tenant, PHONE, SIGN_IN, scope="record-2", resend_of="record-1")
    clock.advance(60)
    phone.refusing = True
    with pytest.raises(AuthorizationFailedError):
        await codes.send(tenant, PHONE, SIGN_IN, scope="record-2", resend_of="record-1")
    [row] = await rows(database)
    assert row.scope == "record-1"  # a refused resend moves nothing
    phone.refusing = False
    await codes.send(tenant, PHONE, SIGN_IN, scope="record-2", resend_of="record-1")
    assert phone.codes == [phone.codes[0]] * 2
    [row] = await rows(database)
    assert (row.scope, row.send_count) == ("record-2", 2)
    with pytest.raises(PhoneauthError) as info:
        await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[0], scope="record-1")
    assert info.value.code == "verification_code.not_found"
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[0], scope="record-2")


async def test_a_test_phone_number_waits_for_the_cooldown_too(
    codes: VerificationCodes, database: Database, phone: Phone, clock: Clock
) -> None:
    """The same rule everywhere, so the pages' countdown can be tried with a test number."""
    tenant = await make_tenant(
        database,
        "keep",
        verificationCodePolicy={"resendCooldownSeconds": 60},
        testPhoneNumbers=[{"phone": PHONE, "code": "123456"}],
    )
    await codes.send(tenant, PHONE, SIGN_IN)
    with pytest.raises(ResendTooSoonError):
        await codes.send(tenant, PHONE, SIGN_IN)
    clock.advance(60)
    await codes.send(tenant, PHONE, SIGN_IN)
    assert phone.codes == []  # no SMS for a test number
    await codes.verify(tenant, PHONE, SIGN_IN, "123456")


async def test_a_send_under_a_new_scope_looks_no_waiting_code_up_but_a_resend_does(
    codes: VerificationCodes,
    database: Database,
    phone: Phone,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An Experience send names the new record's id (`new_scope`): no code can wait there, so
    the lookup is skipped; the resend of an earlier record still finds that record's code."""
    tenant = await keeping(database)
    store = codes.waiting_codes.store
    lookups: list[str] = []
    find_live = store.find_live

    async def counted(tenant_id: str, phone_: str, usage: str, scope: str) -> object:
        lookups.append(scope)
        return await find_live(tenant_id, phone_, usage, scope)

    monkeypatch.setattr(store, "find_live", counted)
    await codes.send(tenant, PHONE, SIGN_IN, scope="record-1", new_scope=True)
    assert lookups == []
    clock.advance(60)
    await codes.send(tenant, PHONE, SIGN_IN, scope="record-2", new_scope=True, resend_of="record-1")
    assert lookups[0] == "record-1"
    assert phone.codes == [phone.codes[0]] * 2  # the same code, found under record-1
    await codes.verify(tenant, PHONE, SIGN_IN, phone.codes[0], scope="record-2")
