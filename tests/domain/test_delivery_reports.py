"""Delivery reports in the domain: the callback URL the codes engine puts on each message, the
`accepted` state a reporting connector's row starts in, and reports applied forward only."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from tests import local_http
from tests.connectors.providers.test_twilio import CONFIG as TWILIO_CONFIG
from tests.connectors.providers.test_twilio import created
from tests.delivery_fakes import Connectors
from tests.domain.codes_support import PHONE, Clock, Source, make_codes, make_tenant

from phoneauth.connectors import SmsMessage
from phoneauth.connectors.providers import outbox, twilio
from phoneauth.connectors.providers.twilio.receipts import signature
from phoneauth.connectors.receipts import CallbackRequest, ReportsNotSupportedError
from phoneauth.connectors.testing import recording_client
from phoneauth.domain.connector_management import ConnectorNotFoundError
from phoneauth.domain.delivery_reports import (
    DeliveryReports,
    OutdatedReportError,
    UnknownMessageError,
    report_url,
    with_status_callback,
)
from phoneauth.domain.message_log import (
    DeliveryStatus,
    MessageLogEntry,
    MessageLogQuery,
)
from phoneauth.domain.metrics import NoMetrics
from phoneauth.domain.ports import ActiveConnector, ReportingConnector
from phoneauth.storage.database import Database
from phoneauth.storage.repositories.message_log import SqlMessageLogStore

PUBLIC = "https://id.example.com"
ROW = "row-twilio"
SID = "SM" + "c" * 32  # the fake's message id (test_twilio.created)


def test_report_urls_follow_the_tenant_paths() -> None:
    assert report_url(PUBLIC + "/", "default", "r1") == (
        "https://id.example.com/api/connectors/r1/delivery-reports"
    )
    assert report_url(PUBLIC, "acme", "r1") == (
        "https://id.example.com/t/acme/api/connectors/r1/delivery-reports"
    )


def test_only_reporting_connectors_get_a_callback_and_only_with_a_public_url() -> None:
    client = local_http.async_client()
    reporting = ActiveConnector(ROW, twilio.FACTORY.id, twilio.FACTORY.build(TWILIO_CONFIG, client))
    silent = ActiveConnector(
        "row-outbox", outbox.FACTORY.id, outbox.FACTORY.build({}, client, outbox=outbox.Outbox())
    )
    message = SmsMessage(to=PHONE, payload={"code": "123456"})
    assert with_status_callback(message, None, "default", reporting) is message
    assert with_status_callback(message, PUBLIC, "default", silent) is message
    called = with_status_callback(message, PUBLIC, "acme", reporting)
    assert called.status_callback == f"{PUBLIC}/t/acme/api/connectors/{ROW}/delivery-reports"
    assert (called.to, called.payload) == (message.to, message.payload)


async def log_rows(database: Database, tenant_id: str = "default") -> list[MessageLogEntry]:
    page = await SqlMessageLogStore(database).query(tenant_id, MessageLogQuery())
    return page.entries


async def test_the_engine_asks_for_reports_and_starts_the_row_at_accepted(
    database: Database,
) -> None:
    tenant = await make_tenant(database, "default")
    client, seen = recording_client(created)
    clock = Clock()
    async with client:
        source = Source(
            {
                "default": ActiveConnector(
                    ROW, twilio.FACTORY.id, twilio.FACTORY.build(TWILIO_CONFIG, client)
                )
            }
        )
        codes = make_codes(database, source, clock)
        codes.public_url = PUBLIC
        await codes.send(tenant, PHONE, "SignIn")
    form = dict(parse_qsl(seen[0].content.decode()))
    assert form["StatusCallback"] == f"{PUBLIC}/api/connectors/{ROW}/delivery-reports"
    [row] = await log_rows(database)
    assert (row.provider_message_id, row.delivery_status) == (SID, DeliveryStatus.ACCEPTED)


async def test_without_a_public_url_nothing_changes_on_the_wire(database: Database) -> None:
    tenant = await make_tenant(database, "default")
    client, seen = recording_client(created)
    async with client:
        source = Source(
            {
                "default": ActiveConnector(
                    ROW, twilio.FACTORY.id, twilio.FACTORY.build(TWILIO_CONFIG, client)
                )
            }
        )
        await make_codes(database, source, Clock()).send(tenant, PHONE, "SignIn")
    assert "StatusCallback" not in dict(parse_qsl(seen[0].content.decode()))
    # Twilio still reports to a Messaging Service's own callback URL: the row waits for it.
    assert (await log_rows(database))[0].delivery_status is DeliveryStatus.ACCEPTED


def twilio_report(status: str, sid: str = SID, url: str = "") -> CallbackRequest:
    url = url or f"{PUBLIC}/api/connectors/{ROW}/delivery-reports"
    params = [("MessageSid", sid), ("MessageStatus", status)]
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature(TWILIO_CONFIG["authToken"], url, params),
    }
    return CallbackRequest("POST", url, headers, urlencode(params).encode())


@pytest.fixture
async def reports(database: Database) -> tuple[DeliveryReports, Clock, Any, Any]:
    await make_tenant(database, "default")
    await make_tenant(database, "acme")
    config = twilio.FACTORY.parse_config(TWILIO_CONFIG)
    connectors = Connectors(
        {
            ("default", ROW): ReportingConnector(
                ROW, twilio.FACTORY.id, config, twilio.FACTORY.receipts
            ),
            ("default", "row-outbox"): ReportingConnector(
                "row-outbox", outbox.FACTORY.id, None, None
            ),
        }
    )
    clock = Clock()
    store = SqlMessageLogStore(database)
    await store.add(
        MessageLogEntry(
            id="m1",
            tenant_id="default",
            created_at=clock(),
            connector_id=ROW,
            factory_id=twilio.FACTORY.id,
            usage_type="SignIn",
            phone_masked="+4915*****5678",
            status=__import__(
                "phoneauth.domain.message_log", fromlist=["MessageStatus"]
            ).MessageStatus.SENT,
            provider_message_id=SID,
            delivery_status=DeliveryStatus.ACCEPTED,
        )
    )
    metrics = RecordedDeliveries()
    service = DeliveryReports(connectors, store, clock, metrics=metrics)
    return service, clock, database, metrics


class RecordedDeliveries(NoMetrics):
    """A `Metrics` that keeps what `delivery_reported` was told."""

    def __init__(self) -> None:
        self.reported: list[tuple[object, ...]] = []

    def delivery_reported(
        self,
        tenant_id: str,
        factory_id: str | None,
        country: str | None,
        status: DeliveryStatus,
        latency_ms: int | None,
    ) -> None:
        self.reported.append((tenant_id, factory_id, country, status, latency_ms))


async def test_reports_move_the_row_forward_with_the_latency(reports: Any) -> None:
    service, clock, database, metrics = reports
    clock.advance(2)
    assert await service.receive("default", ROW, twilio_report("sent")) == 1
    clock.advance(1.5)
    assert await service.receive("default", ROW, twilio_report("delivered")) == 1
    # Counted once per move, the final one with its latency; a refused replay is not counted.
    with pytest.raises(OutdatedReportError):
        await service.receive("default", ROW, twilio_report("delivered"))
    assert metrics.reported == [
        ("default", twilio.FACTORY.id, None, DeliveryStatus.SENT, None),
        ("default", twilio.FACTORY.id, None, DeliveryStatus.DELIVERED, 3500),
    ]
    [row] = await log_rows(database)
    assert (row.delivery_status, row.delivery_code, row.delivery_latency_ms) == (
        DeliveryStatus.DELIVERED,
        "delivered",
        3500,
    )
    assert row.delivery_updated_at == clock()


async def test_replays_and_late_reports_are_refused_and_change_nothing(reports: Any) -> None:
    service, clock, database, _ = reports
    await service.receive("default", ROW, twilio_report("delivered"))
    before = await log_rows(database)
    for late in ("delivered", "sent", "failed"):
        clock.advance(60)
        with pytest.raises(OutdatedReportError) as refused:
            await service.receive("default", ROW, twilio_report(late))
        assert refused.value.status == 409
    assert await log_rows(database) == before


async def test_unknown_messages_connectors_and_tenants_are_refused(reports: Any) -> None:
    service, _, database, _ = reports
    with pytest.raises(UnknownMessageError):
        await service.receive("default", ROW, twilio_report("delivered", sid="SM" + "9" * 32))
    with pytest.raises(ConnectorNotFoundError):
        await service.receive("acme", ROW, twilio_report("delivered"))  # another tenant's id
    with pytest.raises(ReportsNotSupportedError):
        await service.receive("default", "row-outbox", twilio_report("delivered"))
    assert (await log_rows(database))[0].delivery_status is DeliveryStatus.ACCEPTED
