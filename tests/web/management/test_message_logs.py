"""GET /api/message-logs: filters, Logto's paging with `Total-Number`, never a code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from tests import local_http
from tests.domain.codes_support import OTHER_PHONE, PHONE, Source, outbox_connector

from phoneauth.connectors import (
    SendResult,
    SmsMessage,
    UsageLimitExceededError,
    UsageType,
    mask_phone,
)
from phoneauth.connectors.providers import outbox
from phoneauth.domain.message_log import DeliveryStatus, MessageLogEntry, MessageStatus
from phoneauth.domain.ports import ActiveConnector
from phoneauth.wiring import Services


@pytest.fixture
async def box(services: Services) -> AsyncIterator[outbox.Outbox]:
    box = outbox.Outbox()
    async with local_http.async_client() as client:
        services.codes.connectors = Source({"default": outbox_connector(client, box)})
        yield box


class Exhausted:
    async def send(self, message: SmsMessage) -> SendResult:
        raise UsageLimitExceededError(provider_code="21", provider_message="no balance")


async def _fill(services: Services, box: outbox.Outbox) -> None:
    """Four sends: SignIn and Register to PHONE, SignIn to OTHER_PHONE, one failed Register."""
    tenant = await services.tenants.get("default")
    await services.codes.send(tenant, PHONE, UsageType.SIGN_IN)
    await services.codes.send(tenant, PHONE, UsageType.REGISTER)
    await services.codes.send(tenant, OTHER_PHONE, UsageType.SIGN_IN)
    working = services.codes.connectors
    services.codes.connectors = Source({"default": ActiveConnector("row-x", "x", Exhausted())})
    with pytest.raises(UsageLimitExceededError):
        await services.codes.send(tenant, OTHER_PHONE, UsageType.REGISTER)
    services.codes.connectors = working


async def test_every_attempt_is_listed_newest_first_with_a_total(
    api: httpx.AsyncClient, services: Services, box: outbox.Outbox
) -> None:
    await _fill(services, box)
    response = await api.get("/api/message-logs")
    assert response.status_code == 200
    assert response.headers["total-number"] == "4"
    rows = response.json()
    assert [(r["usageType"], r["status"]) for r in rows] == [
        ("Register", "failed"),
        ("SignIn", "sent"),
        ("Register", "sent"),
        ("SignIn", "sent"),
    ]
    failed = rows[0]
    assert failed["errorCode"] == "connector.usage_limit_exceeded"
    assert failed["phone"] == "+4915*****4321"
    assert (failed["connectorId"], failed["factoryId"]) == ("row-x", "x")
    sent = rows[1]
    assert sent["providerMessageId"].startswith("outbox-")
    assert sent["factoryId"] == "outbox-sms"
    assert set(sent) == {
        "id",
        "createdAt",
        "connectorId",
        "factoryId",
        "usageType",
        "phone",
        "status",
        "providerMessageId",
        "errorCode",
        "errorMessage",
        "latencyMs",
        "testSend",
        "channel",
        "deliveryStatus",
        "deliveryCode",
        "deliveryUpdatedAt",
        "deliveryLatencyMs",
        "sendId",
        "attempt",
        "encoding",
        "segments",
        "characters",
    }
    assert sent["deliveryStatus"] is None  # the outbox reports no delivery
    # "Your sign-in verification code is 123456." as the outbox's default template renders it
    assert (sent["encoding"], sent["segments"], sent["characters"]) == ("GSM-7", 1, 41)
    # a connector that does not say its text: not known
    assert (failed["encoding"], failed["segments"], failed["characters"]) == (None, None, None)
    assert {r["channel"] for r in rows} == {"sms"}
    assert not any(r["testSend"] for r in rows)
    for message in box.messages():
        assert message.code is not None
        assert message.code not in response.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "failed"}, [("Register", "+4915*****4321")]),
        (
            {"usageType": "Register"},
            [("Register", "+4915*****4321"), ("Register", "+4915*****5678")],
        ),
        ({"phone": PHONE}, [("Register", "+4915*****5678"), ("SignIn", "+4915*****5678")]),
        ({"phone": "4915112345678", "usageType": "SignIn"}, [("SignIn", "+4915*****5678")]),
        ({"status": "sent", "phone": OTHER_PHONE}, [("SignIn", "+4915*****4321")]),
    ],
)
async def test_filters(
    api: httpx.AsyncClient,
    services: Services,
    box: outbox.Outbox,
    params: dict[str, str],
    expected: list[tuple[str, str]],
) -> None:
    await _fill(services, box)
    response = await api.get("/api/message-logs", params=params)
    assert [(r["usageType"], r["phone"]) for r in response.json()] == expected
    assert response.headers["total-number"] == str(len(expected))


async def test_paging_like_logto(
    api: httpx.AsyncClient, services: Services, box: outbox.Outbox
) -> None:
    await _fill(services, box)
    everything = (await api.get("/api/message-logs")).json()
    page = await api.get("/api/message-logs", params={"page": 2, "page_size": 3})
    assert page.headers["total-number"] == "4"
    assert page.json() == everything[3:]
    beyond = await api.get("/api/message-logs", params={"page": 3, "page_size": 3})
    assert (beyond.json(), beyond.headers["total-number"]) == ([], "4")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page": 0}, "guard.invalid_input"),
        ({"page_size": 101}, "guard.invalid_input"),
        ({"status": "lost"}, "guard.invalid_input"),
        ({"usageType": "Nope"}, "guard.invalid_input"),
        ({"phone": "123"}, "phone_number.invalid"),
    ],
)
async def test_bad_queries_are_400(
    api: httpx.AsyncClient, params: dict[str, str | int], code: str
) -> None:
    response = await api.get("/api/message-logs", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == code


async def test_a_tenant_sees_only_its_own_log(
    api: httpx.AsyncClient, services: Services, box: outbox.Outbox
) -> None:
    await _fill(services, box)
    await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})
    response = await api.get("/t/acme/api/message-logs")
    assert (response.json(), response.headers["total-number"]) == ([], "0")


async def test_the_log_needs_an_admin_key(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/message-logs", headers={"Authorization": ""})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "failed"},
        {"phone": PHONE},
        {"phone": "4915112345678", "usageType": "SignIn"},
        {"page": 2, "pageSize": 3},
    ],
)
async def test_the_search_by_body_answers_as_the_query_does_keeping_numbers_out_of_urls(
    api: httpx.AsyncClient, services: Services, box: outbox.Outbox, filters: dict[str, object]
) -> None:
    await _fill(services, box)
    query = {("page_size" if key == "pageSize" else key): value for key, value in filters.items()}
    by_query = await api.get("/api/message-logs", params=query)
    by_body = await api.post("/api/message-logs/search", json=filters)
    assert by_body.status_code == 200
    assert by_body.json() == by_query.json()
    assert by_body.headers["total-number"] == by_query.headers["total-number"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"page": 0}, "guard.invalid_input"),
        ({"pageSize": 101}, "guard.invalid_input"),
        ({"status": "lost"}, "guard.invalid_input"),
        ({"phone": "123"}, "phone_number.invalid"),
        ({"phone": PHONE, "unknown": 1}, "guard.invalid_input"),
    ],
)
async def test_bad_search_bodies_are_400(
    api: httpx.AsyncClient, body: dict[str, object], code: str
) -> None:
    response = await api.post("/api/message-logs/search", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code


async def test_a_connector_test_send_is_logged_and_marked_and_filtered_by_connector(
    api: httpx.AsyncClient, services: Services, box: outbox.Outbox
) -> None:
    await _fill(services, box)
    tested = await api.post("/api/connectors/outbox-sms/test", json={"phone": PHONE, "config": {}})
    assert tested.status_code == 204, tested.text
    rows = (await api.get("/api/message-logs")).json()
    newest = rows[0]
    assert (newest["testSend"], newest["status"], newest["usageType"]) == (True, "sent", "Generic")
    assert newest["factoryId"] == "outbox-sms"
    assert newest["providerMessageId"].startswith("outbox-")
    by_connector = await api.post("/api/message-logs/search", json={"factoryId": "x"})
    assert by_connector.headers["total-number"] == "1"
    assert by_connector.json()[0]["errorCode"] == "connector.usage_limit_exceeded"
    by_query = await api.get("/api/message-logs", params={"factoryId": "outbox-sms"})
    assert by_query.headers["total-number"] == "4"  # three codes and the test send


async def test_a_sealed_recipient_never_leaves_the_service(
    api: httpx.AsyncClient, services: Services
) -> None:
    """Aliyun rows keep the number encrypted for the status poller (wired for Aliyun only);
    the API shows the masked number and nothing of the sealed one."""
    recipients = services.codes.sealed_recipients
    assert recipients is not None
    assert recipients.seal("twilio-short-message-service", PHONE) is None
    sealed = recipients.seal("aliyun-short-message-service", PHONE)
    assert sealed is not None
    entry = MessageLogEntry(
        id="sealed1",
        tenant_id="default",
        created_at=datetime.now(UTC),
        connector_id="row-aliyun",
        factory_id="aliyun-short-message-service",
        usage_type="SignIn",
        phone_masked=mask_phone(PHONE),
        status=MessageStatus.SENT,
        provider_message_id="900619746936498440^0",
        delivery_status=DeliveryStatus.ACCEPTED,
        recipient_sealed=sealed,
    )
    await services.message_log.record(entry)
    response = await api.get("/api/message-logs")
    [row] = response.json()
    assert row["phone"] == mask_phone(PHONE)
    assert sealed not in response.text
    assert PHONE not in response.text
    assert not [key for key in row if "sealed" in key.lower() or "recipient" in key.lower()]
