"""SMS Aero delivery statuses by polling `/v2/sms/status` (its callback payload is undocumented,
providers.md §2.5): the same request as the official SDK's `sms_status`, statuses normalised."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests import local_http
from tests.connectors.providers.test_smsaero import (
    API_KEY,
    AUTHORIZATION,
    CONFIG,
    FACTORY,
    Recorder,
    refusal,
    sdk_class,  # noqa: F401 (a fixture)
)

from phoneauth.connectors import ConnectorError, InvalidConfigError
from phoneauth.connectors.receipts import (
    DeliveryReport,
    PendingMessage,
    PollsDelivery,
    ReportedStatus,
)
from phoneauth.connectors.testing import recording_client

SENT_AT = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def status_answer(status: int, extend: str) -> dict[str, Any]:
    """The SDK's documented `sms_status` answer, inside SMS Aero's envelope."""
    data = {"id": 12345, "from": "SMS Aero", "number": "79031234567", "text": "Your code 654321"}
    data |= {"status": status, "extendStatus": extend, "channel": "FREE SIGN", "cost": "5.49"}
    data |= {"dateCreate": 1719115820, "dateSend": 1719115820, "dateAnswer": 1719115825}
    return {"success": True, "data": data, "message": None}


def pending(*ids: str) -> list[PendingMessage]:
    return [PendingMessage(message_id, None, SENT_AT) for message_id in ids]


async def poll(
    answer: httpx.Response, ids: list[str]
) -> tuple[list[DeliveryReport], list[httpx.Request]]:
    client, seen = recording_client(lambda request: answer)
    async with client:
        connector: Any = FACTORY.build(CONFIG, client)
        assert isinstance(connector, PollsDelivery)
        return await connector.poll_delivery(pending(*ids)), seen


@pytest.mark.parametrize(
    ("status", "extend", "expected"),
    [
        (0, "queue", ReportedStatus.ACCEPTED),
        (8, "moderation", ReportedStatus.ACCEPTED),
        (3, "transfer", ReportedStatus.SENT),
        (4, "wait status", ReportedStatus.SENT),
        (1, "delivery", ReportedStatus.DELIVERED),
        (2, "no delivery", ReportedStatus.UNDELIVERED),
        (6, "reject", ReportedStatus.FAILED),
    ],
)
async def test_statuses_are_normalised(status: int, extend: str, expected: ReportedStatus) -> None:
    answer = httpx.Response(200, json=status_answer(status, extend))
    reports, seen = await poll(answer, ["12345"])
    assert reports == [DeliveryReport("12345", expected, extend)]
    assert str(seen[0].url) == "https://gate.smsaero.ru/v2/sms/status"
    assert seen[0].headers["Authorization"] == AUTHORIZATION
    assert seen[0].content == b'{"id": 12345}'


async def test_one_request_per_message_and_foreign_ids_skipped() -> None:
    reports, seen = await poll(
        httpx.Response(200, json=status_answer(1, "delivery")), ["1", "x-2", "3"]
    )
    assert [r.provider_message_id for r in reports] == ["1", "3"]
    assert [request.content for request in seen] == [b'{"id": 1}', b'{"id": 3}']


async def test_refusals_and_garbage_are_connector_errors() -> None:
    with pytest.raises(InvalidConfigError):
        await poll(httpx.Response(200, json=refusal("Sign is not approved")), ["1"])
    with pytest.raises(ConnectorError):
        await poll(httpx.Response(500, text="oops"), ["1"])


async def test_oracle_sdk_asks_for_a_status_as_we_do(sdk_class: type[Any]) -> None:  # noqa: F811
    server = Recorder(200, status_answer(1, "delivery"))
    try:
        sdk = sdk_class("ops@example.com", API_KEY, url_gate=f"@127.0.0.1:{server.port}/v2/")
        sdk_data = await asyncio.to_thread(sdk.sms_status, 12345)
        config = {**CONFIG, "endpoint": f"http://127.0.0.1:{server.port}/v2"}
        async with local_http.async_client() as client:
            connector: Any = FACTORY.build(config, client)
            reports = await connector.poll_delivery(pending("12345"))
    finally:
        server.close()
    (sdk_method, sdk_path, sdk_headers, sdk_body), (method, path, headers, body) = server.seen
    assert (method, path) == (sdk_method, sdk_path) == ("POST", "/v2/sms/status")
    assert headers["Authorization"] == sdk_headers["Authorization"] == AUTHORIZATION
    assert body == sdk_body == b'{"id": 12345}'
    assert sdk_data["status"] == 1
    assert reports == [DeliveryReport("12345", ReportedStatus.DELIVERED, "delivery")]
