"""Tencent delivery statuses by PullSmsSendStatus: the exact signed request (the SDK's `sign_tc3`
as the oracle), the documented answer read into reports, and Tencent's errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.connectors.providers.test_tencent import (
    CONFIG,
    CONTENT_TYPE,
    FACTORY,
    TIMESTAMP,
    fixed_clock,
    sdk_authorization,
    tencent_answer,
)

from phoneauth.connectors import AuthorizationFailedError, ConnectorError
from phoneauth.connectors.receipts import (
    DeliveryReport,
    PendingMessage,
    PollsDelivery,
    ReportedStatus,
)
from phoneauth.connectors.testing import recording_client

SENT_AT = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

SERIAL = "5000:1045710669157053657849499619"
# cloud.tencent.com/document/product/382/55977 (PullSmsSendStatus), output example, plus a FAIL.
PULLED = {
    "Response": {
        "PullSmsSendStatusSet": [
            {
                "Description": "DELIVRD",
                "CountryCode": "86",
                "SubscriberNumber": "18501234444",
                "ReportStatus": "SUCCESS",
                "PhoneNumber": "+8618501234444",
                "SerialNo": SERIAL,
                "UserReceiveTime": 1620734188,
                "SessionContext": "",
            },
            {
                "Description": "UNDELIV",
                "ReportStatus": "FAIL",
                "PhoneNumber": "+8618501235555",
                "SerialNo": "5000:2",
                "UserReceiveTime": 1620734190,
            },
            {"Description": "?", "ReportStatus": "WHATEVER", "SerialNo": "5000:3"},
        ],
        "RequestId": "b5b41468-520d-4192-b42f-595cc34b6c1c",
    }
}


async def poll(answer: httpx.Response) -> tuple[list[DeliveryReport], list[httpx.Request]]:
    client, seen = recording_client(lambda request: answer)
    async with client:
        connector: Any = FACTORY.build(CONFIG, client, clock=fixed_clock)
        assert isinstance(connector, PollsDelivery)
        return await connector.poll_delivery([PendingMessage(SERIAL, None, SENT_AT)]), seen


async def test_the_pull_is_the_documented_signed_request() -> None:
    _, seen = await poll(tencent_answer(PULLED))
    request = seen[0]
    assert str(request.url) == "https://sms.tencentcloudapi.com/"
    assert request.content == b'{"SmsSdkAppId":"1400006666","Limit":100}'
    assert request.headers["X-TC-Action"] == "PullSmsSendStatus"
    assert request.headers["X-TC-Version"] == "2021-01-11"
    assert request.headers["X-TC-Region"] == "ap-guangzhou"
    assert request.headers["X-TC-Timestamp"] == str(TIMESTAMP)
    assert request.headers["Authorization"] == sdk_authorization(
        CONTENT_TYPE, "sms.tencentcloudapi.com", request.content, TIMESTAMP
    )


async def test_pulled_statuses_become_reports_keeping_the_carriers_word() -> None:
    reports, _ = await poll(tencent_answer(PULLED))
    assert reports == [
        DeliveryReport(SERIAL, ReportedStatus.DELIVERED, "DELIVRD"),
        DeliveryReport("5000:2", ReportedStatus.UNDELIVERED, "UNDELIV"),
    ]


async def test_an_empty_queue_is_no_report() -> None:
    reports, _ = await poll(
        tencent_answer({"Response": {"PullSmsSendStatusSet": [], "RequestId": "r"}})
    )
    assert reports == []


async def test_tencents_errors_are_connector_errors() -> None:
    refused = {
        "Response": {
            "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "x"},
            "RequestId": "r",
        }
    }
    with pytest.raises(AuthorizationFailedError):
        await poll(tencent_answer(refused))
    # Not enabled for the account (support must switch it on): still a coded error, no crash.
    disabled = {
        "Response": {
            "Error": {"Code": "UnauthorizedOperation.NotEnabled", "Message": "x"},
            "RequestId": "r",
        }
    }
    with pytest.raises(ConnectorError) as failed:
        await poll(tencent_answer(disabled))
    assert failed.value.details["provider_code"] == "UnauthorizedOperation.NotEnabled"
    with pytest.raises(ConnectorError):
        await poll(httpx.Response(502, text="<html>bad gateway</html>"))
