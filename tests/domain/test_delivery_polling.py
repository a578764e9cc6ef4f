"""The delivery pollers against fake SMS Aero and Tencent APIs over real HTTP on 127.0.0.1, with
an injected clock: recent unfinished rows of polled connectors move forward, nothing else is
asked for, a failing provider skips only its own connector."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from tests import local_http
from tests.connectors.providers.test_smsaero import CONFIG as SMSAERO_CONFIG
from tests.connectors.providers.test_tencent import CONFIG as TENCENT_CONFIG
from tests.delivery_fakes import Connectors, FakeSmsAero, FakeTencent, served
from tests.domain.codes_support import Clock, make_tenant

from phoneauth.connectors.providers import smsaero, tencent, twilio
from phoneauth.domain.delivery_polling import DeliveryPolling
from phoneauth.domain.delivery_reports import DeliveryReports
from phoneauth.domain.message_log import (
    DeliveryStatus,
    MessageLogEntry,
    MessageLogQuery,
    MessageStatus,
)
from phoneauth.domain.ports import ReportingConnector
from phoneauth.storage.database import Database
from phoneauth.storage.repositories.message_log import SqlMessageLogStore

POLLED = [smsaero.FACTORY.id, tencent.FACTORY.id]


@pytest.fixture(scope="module")
def aero() -> Iterator[FakeSmsAero]:
    with served(FakeSmsAero()) as fake:
        yield fake


@pytest.fixture(scope="module")
def tc() -> Iterator[FakeTencent]:
    with served(FakeTencent()) as fake:
        yield fake


@dataclass
class World:
    polling: DeliveryPolling
    store: SqlMessageLogStore
    clock: Clock
    aero: FakeSmsAero
    tc: FakeTencent

    async def add(self, n: int, factory: str, message_id: str, **changes: Any) -> None:
        fields: dict[str, Any] = {
            "id": f"m{n:03d}",
            "tenant_id": "default",
            "created_at": self.clock() - timedelta(minutes=5),
            "connector_id": {smsaero.FACTORY.id: "aero", tencent.FACTORY.id: "tc"}.get(
                factory, "other"
            ),
            "factory_id": factory,
            "usage_type": "SignIn",
            "phone_masked": "+7903*****4567",
            "status": MessageStatus.SENT,
            "provider_message_id": message_id,
            "delivery_status": DeliveryStatus.ACCEPTED,
        }
        await self.store.add(MessageLogEntry(**{**fields, **changes}))

    async def status(self, n: int) -> DeliveryStatus | None:
        page = await self.store.query("default", MessageLogQuery(page_size=100))
        return next(e for e in page.entries if e.id == f"m{n:03d}").delivery_status


@pytest.fixture
async def world(database: Database, aero: FakeSmsAero, tc: FakeTencent) -> AsyncIterator[World]:
    await make_tenant(database, "default")
    aero.statuses.clear()
    aero.asked.clear()
    aero.failing = False
    tc.queue.clear()
    clock = Clock()
    store = SqlMessageLogStore(database)
    async with local_http.async_client() as client:
        aero_config = smsaero.FACTORY.parse_config({**SMSAERO_CONFIG, "endpoint": aero.url + "/v2"})
        tc_config = tencent.FACTORY.parse_config({**TENCENT_CONFIG, "endpoint": tc.url})
        connectors = Connectors(
            {
                ("default", "aero"): ReportingConnector(
                    "aero",
                    smsaero.FACTORY.id,
                    aero_config,
                    None,
                    smsaero.FACTORY.build(aero_config, client),
                ),
                ("default", "tc"): ReportingConnector(
                    "tc",
                    tencent.FACTORY.id,
                    tc_config,
                    None,
                    tencent.FACTORY.build(tc_config, client),
                ),
            }
        )
        reports = DeliveryReports(connectors, store, clock)
        polling = DeliveryPolling(
            connectors, store, reports, POLLED, clock, window=timedelta(hours=6), batch=10
        )
        yield World(polling, store, clock, aero, tc)


async def test_recent_unfinished_rows_move_and_nothing_else_is_asked(world: World) -> None:
    world.aero.statuses.update({101: 1, 102: 2, 103: 1, 104: 1})
    await world.add(1, smsaero.FACTORY.id, "101")
    await world.add(2, smsaero.FACTORY.id, "102", delivery_status=DeliveryStatus.SENT)
    # Older than the window, already final, or a connector with callbacks: not asked for.
    await world.add(3, smsaero.FACTORY.id, "103", created_at=world.clock() - timedelta(hours=7))
    await world.add(4, smsaero.FACTORY.id, "104", delivery_status=DeliveryStatus.DELIVERED)
    await world.add(5, twilio.FACTORY.id, "SM5")
    world.tc.report("5000:1", True, "DELIVRD")
    world.tc.report("5000:elsewhere", False, "UNDELIV")  # another system's message: ignored
    await world.add(6, tencent.FACTORY.id, "5000:1")

    assert await world.polling.poll_once() == 3
    assert sorted(world.aero.asked) == [101, 102]
    assert [await world.status(n) for n in range(1, 7)] == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.UNDELIVERED,
        DeliveryStatus.ACCEPTED,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.ACCEPTED,
        DeliveryStatus.DELIVERED,
    ]
    # Done: the next round finds nothing left to ask.
    world.aero.asked.clear()
    assert await world.polling.poll_once() == 0
    assert world.aero.asked == []


async def test_the_window_follows_the_clock(world: World) -> None:
    world.aero.statuses[201] = 3  # handed to the operator: not final, asked again next round
    await world.add(1, smsaero.FACTORY.id, "201")
    assert await world.polling.poll_once() == 1
    assert await world.status(1) is DeliveryStatus.SENT
    world.clock.advance(6 * 3600)
    world.aero.asked.clear()
    assert await world.polling.poll_once() == 0
    assert world.aero.asked == []  # past the window: the provider has forgotten it


async def test_a_failing_provider_skips_only_its_connector(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.aero.failing = True
    await world.add(1, smsaero.FACTORY.id, "301")
    world.tc.report("5000:7", False, "UNDELIV")
    await world.add(2, tencent.FACTORY.id, "5000:7")
    with caplog.at_level(logging.WARNING, logger="phoneauth.delivery"):
        assert await world.polling.poll_once() == 1
        assert await world.polling.poll_once() == 0
    assert await world.status(1) is DeliveryStatus.ACCEPTED
    assert await world.status(2) is DeliveryStatus.UNDELIVERED
    # Said once, not every minute; no secret in it.
    [warning] = [r for r in caplog.records if r.name == "phoneauth.delivery"]
    assert "smsaero-short-message-service failed (connector.general" in warning.getMessage()
    assert SMSAERO_CONFIG["apiKey"] not in caplog.text


async def test_a_round_is_bounded_by_the_batch(world: World) -> None:
    for n in range(1, 13):
        world.aero.statuses[400 + n] = 1
        await world.add(
            n,
            smsaero.FACTORY.id,
            str(400 + n),
            created_at=world.clock() - timedelta(minutes=60 - n),
        )
    assert await world.polling.poll_once() == 10  # the oldest ten
    assert await world.status(12) is DeliveryStatus.ACCEPTED
    assert await world.polling.poll_once() == 2
