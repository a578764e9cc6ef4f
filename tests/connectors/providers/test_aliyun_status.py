"""Aliyun delivery statuses by QuerySendDetails: the exact request, signed like SendSms (checked
against a signature computed here from the documented algorithm and against the official SDK),
the documented answer read into reports, and Aliyun's errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from tests.connectors.providers.test_aliyun import (
    CONFIG,
    FORM,
    NONCE,
    SIGNED_HEADERS,
    V2_CONFIG,
    Recorder,
    business_error,
    fixed_clock,
    fixed_nonce,
    form,
    sdk_client,
)

from phoneauth.connectors import (
    AuthorizationFailedError,
    InvalidResponseError,
    RateLimitExceededError,
)
from phoneauth.connectors.providers import aliyun
from phoneauth.connectors.receipts import (
    DeliveryReport,
    PendingMessage,
    PollsDelivery,
    ReportedStatus,
)
from phoneauth.connectors.testing import captured_logs, recording_client

BIZ_ID = "900619746936498440^0"
# 17:30 UTC is 01:30 the next day in Beijing: Aliyun's SendDate is Beijing's date.
SENT_AT = datetime(2023, 10, 26, 17, 30, tzinfo=UTC)
MAINLAND = PendingMessage(BIZ_ID, "+8613800138000", SENT_AT)
QUERY_BODY = (
    b"BizId=900619746936498440%5E0&CurrentPage=1&PageSize=10&PhoneNumber=13800138000"
    b"&SendDate=20231027"
)


def record(status: int, code: str) -> dict[str, Any]:
    """One `SmsSendDetailDTO` as help.aliyun.com documents QuerySendDetails' answer."""
    return {
        "PhoneNum": "13800138000",
        "SendStatus": status,
        "ErrCode": code,
        "TemplateCode": "SMS_154950909",
        "Content": "【阿里云短信测试】您的验证码为123456",
        "SendDate": "2023-10-27 01:30:00",
        "ReceiveDate": "2023-10-27 01:30:05",
        "OutId": "",
    }


def details(*records: dict[str, Any]) -> dict[str, Any]:
    return {
        "Code": "OK",
        "Message": "OK",
        "RequestId": "819BE656-D2E0-4858-8B21-B2E477085AAF",
        "TotalCount": len(records),
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": list(records)},
    }


async def poll(
    config: dict[str, Any], messages: list[PendingMessage], answer: httpx.Response
) -> tuple[list[DeliveryReport], list[httpx.Request]]:
    client, seen = recording_client(lambda request: answer)
    async with client:
        connector: Any = aliyun.FACTORY.build(config, client, clock=fixed_clock, nonce=fixed_nonce)
        assert isinstance(connector, PollsDelivery)
        return await connector.poll_delivery(messages), seen


def independent_acs3(headers: dict[str, str], body: bytes, key_id: str, secret: str) -> str:
    """The V3 Authorization from the documented steps (providers.md §4.4), not our module."""
    names = sorted(headers)
    canonical = "".join(f"{name}:{headers[name].strip()}\n" for name in names)
    payload_hash = hashlib.sha256(body).hexdigest()
    request = f"POST\n/\n\n{canonical}\n{';'.join(names)}\n{payload_hash}"
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(request.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    fields = f"Credential={key_id},SignedHeaders={';'.join(names)},Signature={signature}"
    return f"ACS3-HMAC-SHA256 {fields}"


def independent_rpc(params: dict[str, str], secret: str) -> str:
    """The V2 Signature from the documented steps (providers.md §4.3)."""

    def enc(value: str) -> str:
        return quote(value, safe="~")

    query = "&".join(f"{enc(k)}={enc(params[k])}" for k in sorted(params))
    to_sign = f"POST&{enc('/')}&{enc(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_the_independent_rpc_signer_reproduces_the_published_vector() -> None:
    # providers.md §8.2 (c): the Logto-shaped SendSms, POST, secret `testsecret`.
    params = {
        "AccessKeyId": "testid",
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": "13800138000",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_154950909",
        "TemplateParam": '{"code":"123456"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert independent_rpc(params, "testsecret") == "WtVA5QXPlfMngA9a9I7ON08lugM="


async def test_v3_query_is_the_documented_signed_request() -> None:
    _, seen = await poll(CONFIG, [MAINLAND], httpx.Response(200, json=details()))
    (request,) = seen
    assert request.method == "POST"
    # The number travels in the body only: a URL ends up in access logs.
    assert str(request.url) == "https://dysmsapi.aliyuncs.com/"
    assert request.content == QUERY_BODY
    assert request.headers["content-type"] == FORM
    assert request.headers["x-acs-action"] == "QuerySendDetails"
    assert request.headers["x-acs-version"] == "2017-05-25"
    assert request.headers["x-acs-date"] == "2023-10-26T10:22:32Z"
    assert request.headers["x-acs-signature-nonce"] == NONCE
    assert request.headers["x-acs-content-sha256"] == hashlib.sha256(QUERY_BODY).hexdigest()
    signed = {name: request.headers[name] for name in SIGNED_HEADERS.split(";")}
    expected = independent_acs3(signed, QUERY_BODY, "testid", "testsecret")
    assert request.headers["authorization"] == expected


async def test_v3_signature_agrees_with_the_sdk() -> None:
    from alibabacloud_openapi_util.client import Client as OpenApiUtil

    _, seen = await poll(CONFIG, [MAINLAND], httpx.Response(200, json=details()))
    signed = {name: seen[0].headers[name] for name in SIGNED_HEADERS.split(";")}
    sdk_request = SimpleNamespace(pathname="/", method="POST", query={}, headers=signed)
    assert seen[0].headers["authorization"] == OpenApiUtil.get_authorization(
        sdk_request, "ACS3-HMAC-SHA256", signed["x-acs-content-sha256"], "testid", "testsecret"
    )


async def test_v2_query_carries_the_documented_rpc_signature() -> None:
    from alibabacloud_openapi_util.client import Client as OpenApiUtil

    _, seen = await poll(V2_CONFIG, [MAINLAND], httpx.Response(200, json=details()))
    (request,) = seen
    assert "authorization" not in request.headers
    params = form(request.content)
    signature = params.pop("Signature")
    assert params == {
        "AccessKeyId": "testid",
        "Action": "QuerySendDetails",
        "BizId": BIZ_ID,
        "CurrentPage": "1",
        "Format": "json",
        "PageSize": "10",
        "PhoneNumber": "13800138000",
        "RegionId": "cn-hangzhou",
        "SendDate": "20231027",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": NONCE,
        "SignatureVersion": "1.0",
        "Timestamp": "2023-10-26T10:22:32Z",
        "Version": "2017-05-25",
    }
    assert signature == independent_rpc(params, "testsecret")
    assert signature == OpenApiUtil.get_rpcsignature(params, "POST", "testsecret")


async def test_the_sdk_asks_with_the_same_parameters_and_reads_our_fixture() -> None:
    from alibabacloud_dysmsapi20170525.models import QuerySendDetailsRequest
    from darabonba.runtime import RuntimeOptions

    server = Recorder(200, details(record(3, "DELIVERED")))
    try:
        request = QuerySendDetailsRequest(
            phone_number="13800138000",
            send_date="20231027",
            biz_id=BIZ_ID,
            page_size=10,
            current_page=1,
        )
        options = RuntimeOptions(autoretry=False, max_attempts=1)
        answer = sdk_client(server.port).query_send_details_with_options(request, options)
    finally:
        server.close()
    _, path, headers, _ = server.seen[0]
    assert headers["x-acs-action"] == "QuerySendDetails"
    assert dict(parse_qsl(urlsplit(path).query)) == form(QUERY_BODY)
    [sdk_record] = answer.body.sms_send_detail_dtos.sms_send_detail_dto
    assert (sdk_record.send_status, sdk_record.err_code) == (3, "DELIVERED")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (1, "", DeliveryReport(BIZ_ID, ReportedStatus.SENT, None)),
        (3, "DELIVERED", DeliveryReport(BIZ_ID, ReportedStatus.DELIVERED, "DELIVERED")),
        (2, "IC:0015", DeliveryReport(BIZ_ID, ReportedStatus.UNDELIVERED, "IC:0015")),
        (2, "UNDELIV", DeliveryReport(BIZ_ID, ReportedStatus.UNDELIVERED, "UNDELIV")),
        # Aliyun's own refusal: it never reached a carrier.
        (
            2,
            "isv.MOBILE_NUMBER_ILLEGAL",
            DeliveryReport(BIZ_ID, ReportedStatus.FAILED, "isv.MOBILE_NUMBER_ILLEGAL"),
        ),
    ],
)
async def test_send_status_becomes_a_report_keeping_errcode(
    status: int, code: str, expected: DeliveryReport
) -> None:
    answer = httpx.Response(200, json=details(record(status, code)))
    reports, _ = await poll(CONFIG, [MAINLAND], answer)
    assert reports == [expected]


@pytest.mark.parametrize(
    "body", [details(), details(record(9, "?")), {**details(), "SmsSendDetailDTOs": None}]
)
async def test_no_record_yet_is_no_report(body: dict[str, Any]) -> None:
    reports, seen = await poll(CONFIG, [MAINLAND], httpx.Response(200, json=body))
    assert reports == []
    assert len(seen) == 1


async def test_one_request_per_message_and_none_without_a_number() -> None:
    messages = [
        MAINLAND,
        PendingMessage("2^0", "+4915112345678", SENT_AT),
        PendingMessage("3^0", None, SENT_AT),  # sent before numbers were kept
    ]
    reports, seen = await poll(
        CONFIG, messages, httpx.Response(200, json=details(record(3, "DELIVERED")))
    )
    assert [form(r.content)["PhoneNumber"] for r in seen] == ["13800138000", "4915112345678"]
    assert [form(r.content)["BizId"] for r in seen] == [BIZ_ID, "2^0"]
    assert [r.provider_message_id for r in reports] == [BIZ_ID, "2^0"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            httpx.Response(200, json=business_error("isv.BUSINESS_LIMIT_CONTROL", "流控")),
            RateLimitExceededError,
        ),
        (
            httpx.Response(400, json=business_error("SignatureDoesNotMatch", "bad")),
            AuthorizationFailedError,
        ),
        (httpx.Response(200, json=details({"SendStatus": "x"})), InvalidResponseError),
        (httpx.Response(200, text="<html>"), InvalidResponseError),
    ],
)
async def test_aliyun_errors_are_connector_errors_without_the_number(
    answer: httpx.Response, error: type[Exception]
) -> None:
    with captured_logs() as logs, pytest.raises(error) as raised:
        await poll(CONFIG, [MAINLAND], answer)
    assert "13800138000" not in str(raised.value)
    assert "13800138000" not in str(raised.value.details)  # type: ignore[attr-defined]
    assert not any("13800138000" in line for line in logs)


def test_the_factory_polls_and_needs_the_recipient() -> None:
    assert aliyun.FACTORY.polls_delivery
    assert aliyun.FACTORY.status_query_needs_recipient


async def test_a_query_aliyun_refuses_skips_only_its_message() -> None:
    refused = httpx.Response(200, json=business_error("isv.MOBILE_NUMBER_ILLEGAL", "bad number"))
    answers = iter([refused, httpx.Response(200, json=details(record(3, "DELIVERED")))])
    client, seen = recording_client(lambda request: next(answers))
    messages = [PendingMessage("1^0", "+8613800138000", SENT_AT), MAINLAND]
    async with client:
        connector: Any = aliyun.FACTORY.build(CONFIG, client, clock=fixed_clock, nonce=fixed_nonce)
        reports = await connector.poll_delivery(messages)
    assert len(seen) == 2
    assert reports == [DeliveryReport(BIZ_ID, ReportedStatus.DELIVERED, "DELIVERED")]
