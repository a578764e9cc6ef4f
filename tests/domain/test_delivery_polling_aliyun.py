"""Aliyun delivery statuses end to end, over real HTTP to a fake Dysmsapi on 127.0.0.1 that checks
every signature with the official SDK's util: a code sent through the Aliyun connector leaves a
sealed number on its log row, the real `DeliveryPolling` asks `QuerySendDetails` with it, and
the number is cleared as soon as the row is final. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests import local_http
from tests.connectors.providers.test_aliyun import CONFIG as ALIYUN_CONFIG
from tests.delivery_fakes import Connectors, FakeAliyun, served
from tests.domain.codes_support import HASH_KEY, Clock, Source, make_tenant

from phoneauth.connectors import UsageType
from phoneauth.connectors.providers import aliyun
from phoneauth.crypto import ConfigCipher, derive_key
from phoneauth.domain.delivery_polling import DeliveryPolling
from phoneauth.domain.delivery_reports import DeliveryReports
from phoneauth.domain.message_log import DeliveryStatus, MessageLog, MessageLogEntry
from phoneauth.domain.ports import ActiveConnector, ReportingConnector
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.rate_limits import RateLimits
from phoneauth.domain.sealed_recipients import SealedRecipients
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.verification_codes import VerificationCodes
from phoneauth.storage.database import Database
from phoneauth.storage.models import MessageLogRow
from phoneauth.storage.repositories.message_log import SqlMessageLogStore
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore

PHONE = "+8613800138000"
ROW = "row-aliyun"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAliyun]:
    with served(FakeAliyun()) as served_fake:
        yield served_fake


@dataclass
class World:
    codes: VerificationCodes
    polling: DeliveryPolling
    database: Database
    clock: Clock
    fake: FakeAliyun
    tenant: Tenant
    recipients: SealedRecipients

    async def send(self) -> MessageLogRow:
        sent = await self.codes.send(self.tenant, PHONE, UsageType.SIGN_IN)
        row = await self.row()
        assert row.provider_message_id == sent.provider_message_id
        return row

    async def row(self) -> MessageLogRow:
        async with AsyncSession(self.database.engine) as session:
            [row] = list(await session.scalars(select(MessageLogRow)))
            return row


@pytest.fixture
async def world(database: Database, fake: FakeAliyun) -> AsyncIterator[World]:
    tenant = await make_tenant(database, "default")
    fake.statuses.clear()
    fake.queries.clear()
    fake.failing = False
    clock = Clock()
    store = SqlMessageLogStore(database)
    recipients = SealedRecipients(
        ConfigCipher(derive_key(b"master", "connector-config")), [aliyun.FACTORY.id]
    )
    async with local_http.async_client() as client:
        config = aliyun.FACTORY.parse_config({**ALIYUN_CONFIG, "endpoint": fake.url})
        connector = aliyun.FACTORY.build(config, client)
        source = Source({"default": ActiveConnector(ROW, aliyun.FACTORY.id, connector)})
        codes = VerificationCodes(
            store=SqlVerificationCodeStore(database),
            message_log=MessageLog(store),
            rate_limits=RateLimits(MemoryCounters(), hash_key=HASH_KEY),
            hash_key=HASH_KEY,
            connectors=source,
            tenants=SqlTenantStore(database),
            clock=clock,
            sealed_recipients=recipients,
        )
        found = ReportingConnector(ROW, aliyun.FACTORY.id, config, None, connector)
        connectors = Connectors({("default", ROW): found})
        polling = DeliveryPolling(
            connectors,
            store,
            DeliveryReports(connectors, store, clock),
            [aliyun.FACTORY.id],
            clock,
            recipients=recipients,
        )
        yield World(codes, polling, database, clock, fake, tenant, recipients)


async def test_a_sent_code_is_polled_to_delivered_and_its_number_forgotten(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        row = await world.send()
        assert row.delivery_status == DeliveryStatus.ACCEPTED
        assert row.recipient_sealed is not None
        assert PHONE.removeprefix("+") not in row.recipient_sealed  # encrypted, not encoded
        assert world.recipients.open(row.recipient_sealed) == PHONE
        biz_id = row.provider_message_id
        assert biz_id is not None

        # Aliyun has no record yet: asked, nothing moves, the number stays for the next round.
        assert await world.polling.poll_once() == 0
        [query] = world.fake.queries
        assert (query["PhoneNumber"], query["BizId"]) == ("13800138000", biz_id)
        assert (await world.row()).recipient_sealed == row.recipient_sealed

        world.fake.statuses[biz_id] = (1, "")  # waiting for the carrier's receipt
        assert await world.polling.poll_once() == 1
        waiting = await world.row()
        assert (waiting.delivery_status, waiting.recipient_sealed) == ("sent", row.recipient_sealed)

        world.fake.statuses[biz_id] = (3, "DELIVERED")
        assert await world.polling.poll_once() == 1
    done = await world.row()
    assert (done.delivery_status, done.delivery_code) == ("delivered", "DELIVERED")
    assert done.recipient_sealed is None
    assert done.delivery_latency_ms is not None
    # Final: not asked again. The full number was never logged.
    assert await world.polling.poll_once() == 0
    assert len(world.fake.queries) == 3
    assert "13800138000" not in caplog.text


async def test_a_failed_send_keeps_errcode_and_drops_the_number(world: World) -> None:
    row = await world.send()
    assert row.provider_message_id is not None
    world.fake.statuses[row.provider_message_id] = (2, "IC:0015")
    assert await world.polling.poll_once() == 1
    failed = await world.row()
    assert (failed.delivery_status, failed.delivery_code) == ("undelivered", "IC:0015")
    assert failed.recipient_sealed is None


async def test_provider_errors_are_logged_once_and_change_no_row(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    row = await world.send()
    assert row.provider_message_id is not None
    world.fake.statuses[row.provider_message_id] = (3, "DELIVERED")
    world.fake.failing = True
    with caplog.at_level(logging.WARNING, logger="phoneauth.delivery"):
        assert await world.polling.poll_once() == 0
        assert await world.polling.poll_once() == 0
    unchanged = await world.row()
    assert (unchanged.delivery_status, unchanged.recipient_sealed) == (
        "accepted",
        row.recipient_sealed,
    )
    [warning] = [r for r in caplog.records if r.name == "phoneauth.delivery"]
    message = warning.getMessage()
    assert "aliyun-short-message-service failed" in message
    assert "SignatureDoesNotMatch" in message
    assert "13800138000" not in caplog.text
    assert ALIYUN_CONFIG["accessKeySecret"] not in caplog.text
    # Aliyun answers again: the row moves on the next round.
    world.fake.failing = False
    assert await world.polling.poll_once() == 1
    assert (await world.row()).recipient_sealed is None


async def test_a_number_past_the_window_is_forgotten_without_asking(world: World) -> None:
    row = await world.send()
    assert row.recipient_sealed is not None
    world.clock.advance(6 * 3600 + 1)
    assert await world.polling.poll_once() == 0
    assert world.fake.queries == []
    gone = await world.row()
    assert (gone.delivery_status, gone.recipient_sealed) == ("accepted", None)


async def test_a_number_that_cannot_be_opened_is_not_asked_for(world: World) -> None:
    # A secret key changed since the send: the poller skips the message rather than failing.
    other = SealedRecipients(ConfigCipher(derive_key(b"other", "connector-config")), ["x"])
    assert other.open((await world.send()).recipient_sealed) is None
    async with AsyncSession(world.database.engine) as session, session.begin():
        row = (await session.scalars(select(MessageLogRow))).one()
        row.recipient_sealed = other.cipher.encrypt({"to": PHONE})
    assert await world.polling.poll_once() == 0
    assert world.fake.queries == []


def test_only_flagged_factories_get_a_sealed_number() -> None:
    recipients = SealedRecipients(ConfigCipher(derive_key(b"m", "connector-config")), ["a"])
    assert recipients.seal("b", PHONE) is None
    assert recipients.seal(None, PHONE) is None
    assert recipients.seal("a", "someone@example.com") is None
    assert recipients.open(recipients.seal("a", PHONE)) == PHONE
    entry_repr = repr(
        MessageLogEntry(
            id="m",
            tenant_id="t",
            created_at=Clock()(),
            connector_id=None,
            factory_id=None,
            usage_type="SignIn",
            phone_masked="+8613*****8000",
            status="sent",  # type: ignore[arg-type]
            recipient_sealed="sealed",
        )
    )
    assert "sealed" not in entry_repr.replace("recipient_sealed", "")
