"""Test phone numbers (tenant setting `testPhoneNumbers`): a fixed code, no SMS, the usual rules."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError
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
    outbox_connector,
)

from phoneauth.connectors import UsageType
from phoneauth.connectors.providers import outbox
from phoneauth.domain.message_log import MessageStatus
from phoneauth.domain.tenants import Tenant, TenantSettings
from phoneauth.domain.verification_codes import (
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
    CodeNotFoundError,
    NoSmsConnectorError,
)
from phoneauth.storage.database import Database
from phoneauth.storage.models import MessageLogRow, VerificationCodeRow

FIXED = "424242"


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    return await make_tenant(
        database,
        "default",
        testPhoneNumbers=[{"phone": PHONE, "code": FIXED}],
        verificationCodePolicy={"expirationDuration": 60, "maxRetryAttempts": 2},
    )


async def test_a_test_number_gets_its_fixed_code_without_any_connector(
    database: Database, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    codes = make_codes(database, Source(), Clock())
    sent = await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    assert (sent.phone, sent.provider_message_id) == (PHONE, None)
    with pytest.raises(CodeMismatchError):
        await codes.verify(tenant, PHONE, UsageType.SIGN_IN, "000000")
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, FIXED)
    with pytest.raises(CodeNotFoundError):  # consumed, as any code
        await codes.verify(tenant, PHONE, UsageType.SIGN_IN, FIXED)
    # Every other number still needs a connector.
    with pytest.raises(NoSmsConnectorError):
        await codes.send(tenant, OTHER_PHONE, UsageType.SIGN_IN)

    async with AsyncSession(database.engine) as session:
        rows = list(await session.scalars(select(MessageLogRow)))
        stored = list(await session.scalars(select(VerificationCodeRow)))
    test_entry = next(row for row in rows if row.status == MessageStatus.TEST.value)
    assert (test_entry.connector_id, test_entry.factory_id) == (None, None)
    assert (test_entry.usage_type, test_entry.error_code) == ("SignIn", None)
    assert PHONE not in test_entry.phone_masked
    for row in rows:
        assert FIXED not in repr(vars(row))
    assert all(FIXED not in row.code_hash for row in stored)
    for record in caplog.records:
        assert FIXED not in record.getMessage()


async def test_no_sms_goes_out_even_when_a_connector_exists(
    database: Database, tenant: Tenant
) -> None:
    box = outbox.Outbox()
    async with local_http.async_client() as client:
        codes = make_codes(database, Source({"default": outbox_connector(client, box)}), Clock())
        await codes.send(tenant, "0049 151 1234 5678", UsageType.REGISTER)
        assert box.messages() == []
        await codes.verify(tenant, PHONE, UsageType.REGISTER, FIXED)
        await codes.send(tenant, OTHER_PHONE, UsageType.REGISTER)
        assert [message.to for message in box.messages()] == [OTHER_PHONE]


async def test_expiry_applies_to_the_fixed_code(database: Database, tenant: Tenant) -> None:
    clock = Clock()
    codes = make_codes(database, Source(), clock)
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    clock.advance(61)
    with pytest.raises(CodeExpiredError):
        await codes.verify(tenant, PHONE, UsageType.SIGN_IN, FIXED)


async def test_tries_apply_to_the_fixed_code(database: Database, tenant: Tenant) -> None:
    codes = make_codes(database, Source(), Clock())
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    for _ in range(2):
        with pytest.raises(CodeMismatchError):
            await codes.verify(tenant, PHONE, UsageType.SIGN_IN, "111111")
    with pytest.raises(CodeMaxTriesError):
        await codes.verify(tenant, PHONE, UsageType.SIGN_IN, FIXED)


async def test_the_code_is_bound_to_usage_and_scope(database: Database, tenant: Tenant) -> None:
    codes = make_codes(database, Source(), Clock())
    await codes.send(tenant, PHONE, UsageType.SIGN_IN, scope="interaction-1")
    with pytest.raises(CodeNotFoundError):
        await codes.verify(tenant, PHONE, UsageType.REGISTER, FIXED, scope="interaction-1")
    with pytest.raises(CodeNotFoundError):
        await codes.verify(tenant, PHONE, UsageType.SIGN_IN, FIXED, scope="interaction-2")
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, FIXED, scope="interaction-1")


async def test_other_tenants_do_not_share_the_test_numbers(database: Database) -> None:
    await make_tenant(database, "default", testPhoneNumbers=[{"phone": PHONE, "code": FIXED}])
    other = await make_tenant(database, "other")
    codes = make_codes(database, Source(), Clock())
    with pytest.raises(NoSmsConnectorError):
        await codes.send(other, PHONE, UsageType.SIGN_IN)


def test_settings_parse_the_number_to_e164_and_want_six_digits() -> None:
    settings = TenantSettings.model_validate(
        {"testPhoneNumbers": [{"phone": "0049 151 1234 5678", "code": FIXED}]}
    )
    assert settings.test_phone_numbers[0].phone == PHONE
    assert settings.fixed_code_for(PHONE) == FIXED
    assert settings.fixed_code_for(OTHER_PHONE) is None
    for bad in (
        [{"phone": "+49123", "code": FIXED}],
        [{"phone": PHONE, "code": "12345"}],
        [{"phone": PHONE, "code": "1234567"}],
        [{"phone": PHONE, "code": "12345a"}],
        [{"phone": PHONE}],
        [{"phone": PHONE, "code": FIXED}, {"phone": "4915112345678", "code": "111111"}],
        [{"phone": f"+49151{index:08d}", "code": FIXED} for index in range(101)],
    ):
        with pytest.raises(ValidationError):
            TenantSettings.model_validate({"testPhoneNumbers": bad})
