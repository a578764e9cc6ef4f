"""The Aliyun SMS connector: signing vectors, wire format, Logto config, errors, SDK oracles."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from tests import local_http

from phoneauth.connectors import (
    AuthorizationFailedError,
    ConnectorError,
    InsufficientRequestParametersError,
    InvalidConfigError,
    InvalidRequestParametersError,
    InvalidResponseError,
    RateLimitExceededError,
    SmsMessage,
    UsageLimitExceededError,
    UsageType,
    dump_config,
)
from phoneauth.connectors.providers import aliyun
from phoneauth.connectors.providers.aliyun import signing
from phoneauth.connectors.providers.aliyun.config import is_china_number
from phoneauth.connectors.testing import captured_logs, recording_client, run_conformance

CODE = "123456"
SIGN_NAME = "阿里云短信测试"
SIGN_NAME_ENC = "%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95"
NOW = datetime(2023, 10, 26, 10, 22, 32, tzinfo=UTC)
NONCE = "3156853299f313e23d1673dc12e1703d"
FORM = "application/x-www-form-urlencoded"
SIGNED_HEADERS = (
    "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
    "x-acs-version"
)

CONFIG: dict[str, Any] = {
    "accessKeyId": "testid",
    "accessKeySecret": "testsecret",
    "signName": SIGN_NAME,
    "templates": [
        {"type": 2, "usageType": "Generic", "templateCode": "SMS_154950909"},
        {
            "type": 2,
            "usageType": "SignIn",
            "templateCode": {"china": "SMS_100000001", "overseas": "SMS_100000002"},
        },
    ],
}
V2_CONFIG = {**CONFIG, "signatureVersion": "v2"}

# A config exactly as Logto's console stores it (logto.md §2.4): all nine usage types, `type` 2.
LOGTO_CONFIG: dict[str, Any] = {
    "accessKeyId": "LTAI5tExampleKeyId",
    "accessKeySecret": "ExampleAccessKeySecret",
    "signName": SIGN_NAME,
    "templates": [
        {"type": 2, "usageType": usage.value, "templateCode": "SMS_154950909"}
        for usage in UsageType
        if usage is not UsageType.GENERIC
    ]
    + [
        {
            "type": 2,
            "usageType": "Generic",
            "templateCode": {"china": "SMS_100000001", "overseas": "SMS_100000002"},
        }
    ],
    "strictPhoneRegionNumberCheck": False,
}

GENERIC = SmsMessage(to="+8613800138000", usage_type=UsageType.GENERIC, payload={"code": CODE})
SIGN_IN = SmsMessage(
    to="+4915112345678",
    usage_type=UsageType.SIGN_IN,
    payload={"code": "864209", "locale": "zh-CN", "uiLocales": "fr-CA fr"},
)
GENERIC_BODY = (
    f"PhoneNumbers=8613800138000&SignName={SIGN_NAME_ENC}&TemplateCode=SMS_154950909"
    "&TemplateParam=%7B%22code%22%3A%22123456%22%7D"
).encode()
SIGN_IN_BODY = (
    f"PhoneNumbers=4915112345678&SignName={SIGN_NAME_ENC}&TemplateCode=SMS_100000002"
    "&TemplateParam=%7B%22code%22%3A%22864209%22%7D"
).encode()

OK_BODY = {
    "Message": "OK",
    "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
    "Code": "OK",
    "BizId": "900619746936498440^0",
}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=OK_BODY)


def fixed_clock() -> datetime:
    return NOW


def fixed_nonce() -> str:
    return NONCE


async def send(
    config: dict[str, Any], message: SmsMessage, handler: Any = ok
) -> tuple[Any, list[httpx.Request]]:
    client, seen = recording_client(handler)
    async with client:
        connector = aliyun.FACTORY.build(config, client, clock=fixed_clock, nonce=fixed_nonce)
        result = await connector.send(message)
    return result, seen


async def build(config: dict[str, Any], message: SmsMessage) -> httpx.Request:
    """Our request for the message, built but not sent."""
    async with local_http.async_client() as client:
        connector = aliyun.FACTORY.build(config, client, clock=fixed_clock, nonce=fixed_nonce)
        assert isinstance(connector, aliyun.AliyunSmsConnector)
        return connector.build_request(message)


def form(content: bytes) -> dict[str, str]:
    return dict(parse_qsl(content.decode(), keep_blank_values=True, strict_parsing=True))


def signed_headers_of(request: httpx.Request) -> dict[str, str]:
    names = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    return {name: request.headers[name] for name in names.split(";")}


# --- signing: published vectors, byte for byte -------------------------------------------------

ECS_PARAMS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
SMS_DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
RUN_INSTANCES_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-version": "2014-05-26",
    "x-acs-date": "2023-10-26T10:22:32Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}
RUN_INSTANCES_QUERY = {
    "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
    "RegionId": "cn-shanghai",
}


def test_rpc_v2_generic_doc_example() -> None:
    # Aliyun OpenAPI "RPC signature" doc example, ECS DescribeRegions (providers.md §8.2 (a))
    assert signing.rpc_string_to_sign("GET", ECS_PARAMS) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26"
        "SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26"
        "SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    )
    # Aliyun OpenAPI "RPC signature" doc example, ECS DescribeRegions (providers.md §8.2 (a))
    assert signing.rpc_signature("testsecret", "GET", ECS_PARAMS) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    # providers.md §8.2 (a), same params signed for POST [computed with the SDK]
    assert signing.rpc_signature("testsecret", "POST", ECS_PARAMS) == "MxbnVAM4w6sft9xjVpe/GCKueuk="


def test_rpc_v2_sms_doc_example() -> None:
    # Dysmsapi doc "HTTP协议及签名", SendSms example (providers.md §8.2 (b)): canonical query
    assert signing.canonical_query(SMS_DOC_PARAMS) == (
        "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001"
        "&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B"
        "%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1"
        "&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
        "&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
        "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
    )
    # Dysmsapi doc "HTTP协议及签名", SendSms example (providers.md §8.2 (b)): StringToSign
    assert signing.rpc_string_to_sign("GET", SMS_DOC_PARAMS) == (
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26"
        "PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9"
        "%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595"
        "%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D"
        "45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3D"
        "SMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26"
        "Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
    )
    # Dysmsapi doc "HTTP协议及签名", SendSms example (providers.md §8.2 (b)): Signature, secret
    # `testSecret` with a capital S
    assert signing.rpc_signature("testSecret", "GET", SMS_DOC_PARAMS) == (
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    )
    # providers.md §8.2 (b), the other secret/method pairs [computed with the SDK]
    assert signing.rpc_signature("testSecret", "POST", SMS_DOC_PARAMS) == (
        "Xvhv7fPXrPkLVSnlt0jIr08o8NQ="
    )
    assert signing.rpc_signature("testsecret", "GET", SMS_DOC_PARAMS) == (
        "EpROzuoKhdewdxdmVWhll2qdKbk="
    )
    assert signing.rpc_signature("testsecret", "POST", SMS_DOC_PARAMS) == (
        "RdoJ2W5Fx9F1gbAF9xDptSuCciA="
    )


def test_rpc_v2_logto_shaped_send_sms() -> None:
    params = {
        "AccessKeyId": "testid",
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": "13800138000",
        "RegionId": "cn-hangzhou",
        "SignName": SIGN_NAME,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_154950909",
        "TemplateParam": '{"code":"123456"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    # providers.md §8.2 (c), Logto-shaped SendSms [computed with the SDK]
    assert signing.rpc_signature("testsecret", "POST", params) == "WtVA5QXPlfMngA9a9I7ON08lugM="
    assert signing.rpc_signature("testsecret", "GET", params) == "sPlVo4ae+csleEOauM1HV6POqxM="


def test_acs3_v3_doc_example() -> None:
    payload = signing.EMPTY_SHA256
    canonical = signing.acs3_canonical_request(
        "POST", "/", RUN_INSTANCES_QUERY, RUN_INSTANCES_HEADERS, payload
    )
    # Aliyun SDK doc "V3版本请求体&签名机制", ECS RunInstances (providers.md §8.3): CanonicalRequest
    assert canonical == (
        "POST\n/\n"
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n"
        "host:ecs.cn-shanghai.aliyuncs.com\n"
        "x-acs-action:RunInstances\n"
        "x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-acs-date:2023-10-26T10:22:32Z\n"
        "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
        "x-acs-version:2014-05-26\n"
        "\n"
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    # providers.md §8.3: HashedCanonicalRequest [computed; consistent with the published signature]
    assert signing.acs3_string_to_sign(canonical) == (
        "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    )
    authorization = signing.acs3_authorization(
        "YourAccessKeyId",
        "YourAccessKeySecret",
        "POST",
        "/",
        RUN_INSTANCES_QUERY,
        RUN_INSTANCES_HEADERS,
        payload,
    )
    # Aliyun SDK doc "V3版本请求体&签名机制", ECS RunInstances (providers.md §8.3): Authorization
    assert authorization == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_acs3_send_sms_shaped_vectors() -> None:
    params = {
        "PhoneNumbers": "13800138000",
        "SignName": SIGN_NAME,
        "TemplateCode": "SMS_154950909",
        "TemplateParam": '{"code":"123456"}',
    }
    headers = {
        **RUN_INSTANCES_HEADERS,
        "host": "dysmsapi.aliyuncs.com",
        "x-acs-action": "SendSms",
        "x-acs-version": "2017-05-25",
    }
    # providers.md §8.3, SendSms-shaped, params in the query [computed with the SDK]
    query_auth = signing.acs3_authorization(
        "testid", "testsecret", "POST", "/", params, headers, signing.EMPTY_SHA256
    )
    assert query_auth.endswith(
        "Signature=f1a91b1ac2f16c26e40539e82420114ae9848b7edbfc329bc581720df3e11c0a"
    )
    body = signing.canonical_query(params).encode()
    form_headers = {
        **headers,
        "content-type": FORM,
        "x-acs-content-sha256": signing.sha256_hex(body),
    }
    # providers.md §8.3, SendSms-shaped, the same params as a form body [computed with the SDK]
    assert form_headers["x-acs-content-sha256"] == (
        "8b7d48c46cb6f12b267a17ec103137ed7b6fec150638dd6ed9ef3e0deb3041d4"
    )
    form_auth = signing.acs3_authorization(
        "testid", "testsecret", "POST", "/", {}, form_headers, form_headers["x-acs-content-sha256"]
    )
    assert form_auth == (
        f"ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={SIGNED_HEADERS},"
        "Signature=36c44c303a6095e18eddd85b537e01b9bd589d5716ffd20606454f4a1812ef8d"
    )


def test_percent_encoding_is_rfc3986() -> None:
    assert signing.percent_encode("a b*c~d/e+f") == "a%20b%2Ac~d%2Fe%2Bf"
    assert signing.acs_timestamp(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2024-01-02T03:04:05Z"
    )


def test_percent_encoding_skips_quote_only_for_unreserved_text() -> None:
    # Unreserved text comes back as it is, without quote(); everything else is quote()'s.
    samples = ["", "SMS_154950909", "2017-05-25", "a.b~c-d_e", "x\n", "Ä", "阿里", "😀", "%41"]
    for text in [*samples, *map(chr, range(128))]:
        assert signing.percent_encode(text) == quote(text, safe="~", encoding="utf-8")


# --- the exact requests ------------------------------------------------------------------------


async def test_v3_generic_request_is_exact() -> None:
    result, seen = await send(CONFIG, GENERIC)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://dysmsapi.aliyuncs.com/"
    assert request.content == GENERIC_BODY
    assert request.headers["content-type"] == FORM
    assert request.headers["host"] == "dysmsapi.aliyuncs.com"
    assert request.headers["x-acs-action"] == "SendSms"
    assert request.headers["x-acs-version"] == "2017-05-25"
    assert request.headers["x-acs-date"] == "2023-10-26T10:22:32Z"
    assert request.headers["x-acs-signature-nonce"] == NONCE
    assert request.headers["x-acs-content-sha256"] == (
        "83e73790850b29c246c037105e3dbcea93575bf03adce076cd2b7f83e5020739"
    )
    # Expected value computed with the SDK's `get_authorization` over the same inputs.
    assert request.headers["authorization"] == (
        f"ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={SIGNED_HEADERS},"
        "Signature=20590aacf1f712cdcb37a2d950de76131af1366251003f1e33d3b2baba9be21e"
    )
    assert "testsecret" not in str(request.headers)
    assert result.provider_message_id == "900619746936498440^0"
    assert result.details == {"request_id": "F655A8D5-B967-440B-8683-DAD6FF8DE990"}


async def test_v3_sign_in_request_is_exact_and_sends_only_the_code() -> None:
    _, seen = await send(CONFIG, SIGN_IN)
    (request,) = seen
    assert str(request.url) == "https://dysmsapi.aliyuncs.com/"
    # Overseas number → the `overseas` code; locale and uiLocales never reach TemplateParam.
    assert request.content == SIGN_IN_BODY
    assert request.headers["x-acs-content-sha256"] == (
        "a6f6811a1b86379d0252933adbd3466c9a333a41d8ebb9f1d4589f77c5e469bf"
    )
    # Expected value computed with the SDK's `get_authorization` over the same inputs.
    assert request.headers["authorization"] == (
        f"ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={SIGNED_HEADERS},"
        "Signature=1858558a133c14df74b193c140038262fd3d6b80b03ceb0e8496a8faed9d4531"
    )


def v2_body(phone: str, template: str, code: str, signature: str) -> bytes:
    return (
        "AccessKeyId=testid&Action=SendSms&Format=json"
        f"&PhoneNumbers={phone}&RegionId=cn-hangzhou&SignName={SIGN_NAME_ENC}"
        f"&Signature={signature}&SignatureMethod=HMAC-SHA1&SignatureNonce={NONCE}"
        f"&SignatureVersion=1.0&TemplateCode={template}"
        f"&TemplateParam=%7B%22code%22%3A%22{code}%22%7D"
        "&Timestamp=2023-10-26T10%3A22%3A32Z&Version=2017-05-25"
    ).encode()


async def test_v2_generic_request_is_exact() -> None:
    result, seen = await send(V2_CONFIG, GENERIC)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://dysmsapi.aliyuncs.com/"
    assert request.headers["content-type"] == FORM
    assert "authorization" not in request.headers
    assert "x-acs-date" not in request.headers
    # Signature computed with the SDK's `get_rpcsignature(params, "POST", "testsecret")`.
    assert request.content == v2_body(
        "8613800138000", "SMS_154950909", CODE, "csW%2BjBE1UVPbrMRdwN2PQa04%2B3c%3D"
    )
    assert result.provider_message_id == "900619746936498440^0"


async def test_v2_sign_in_request_is_exact() -> None:
    _, seen = await send(V2_CONFIG, SIGN_IN)
    # Signature computed with the SDK's `get_rpcsignature(params, "POST", "testsecret")`.
    assert seen[0].content == v2_body(
        "4915112345678", "SMS_100000002", "864209", "yvrl0m4uAC23QstRQ38O%2B31ccsg%3D"
    )


async def test_headers_keep_their_wire_order() -> None:
    # The V3 headers are assembled in one dict: names, spelling and order on the wire stay what
    # httpx produced when the signed headers were added to a built request.
    v3, v2 = await build(CONFIG, GENERIC), await build(V2_CONFIG, GENERIC)
    client_headers = ["Accept", "Accept-Encoding", "Connection", "User-Agent"]
    assert [name.decode() for name, _ in v3.headers.raw] == [
        *client_headers,
        "Content-Length",
        "host",
        "content-type",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
        "Authorization",
    ]
    assert v3.headers["content-length"] == str(len(v3.content))
    assert [name.decode() for name, _ in v2.headers.raw] == [
        "Host",
        *client_headers,
        "Content-Type",
        "Content-Length",
    ]


async def test_numeric_code_is_sent_as_a_json_string() -> None:
    message = SmsMessage(to="+8613800138000", payload={"code": 123456})
    _, seen = await send(CONFIG, message)
    assert form(seen[0].content)["TemplateParam"] == '{"code":"123456"}'


async def test_message_without_code_is_refused_before_sending() -> None:
    message = SmsMessage(to="+8613800138000", payload={"locale": "en"})
    with pytest.raises(InsufficientRequestParametersError):
        await send(CONFIG, message)


# --- mainland vs overseas template -------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "strict", "expected"),
    [
        ("+8613800138000", False, "SMS_100000001"),
        ("+8613800138000", True, "SMS_100000001"),
        ("+85261234567", False, "SMS_100000002"),
        ("+4915112345678", True, "SMS_100000002"),
        # Logto's `to` is digits only: a NANP number that looks like 1 + 10 digits counts as
        # mainland unless the strict check is on (Logto PR #7052).
        ("+13800138000", False, "SMS_100000001"),
        ("+13800138000", True, "SMS_100000002"),
    ],
)
async def test_template_code_follows_logtos_mainland_rule(
    to: str, strict: bool, expected: str
) -> None:
    config = {**CONFIG, "strictPhoneRegionNumberCheck": strict}
    _, seen = await send(config, SmsMessage(to=to, usage_type="SignIn", payload={"code": CODE}))
    sent = form(seen[0].content)
    assert sent["TemplateCode"] == expected
    assert sent["PhoneNumbers"] == to[1:]


def test_is_china_number_is_logtos_regex() -> None:
    for number in ("+8613800138000", "008613800138000", "8613800138000"):
        assert is_china_number(number, strict=True)
        assert is_china_number(number, strict=False)
    assert is_china_number("13800138000", strict=False)
    assert not is_china_number("13800138000", strict=True)
    assert not is_china_number("8612345", strict=False)
    assert not is_china_number("85261234567", strict=False)


# --- config ------------------------------------------------------------------------------------


def test_logto_config_validates_unchanged() -> None:
    config = aliyun.FACTORY.parse_config(LOGTO_CONFIG)
    assert config.templates[0].template_type == 2
    assert config.templates[-1].template_code.china == "SMS_100000001"
    assert config.signature_version == "v3"
    assert config.base_url == "https://dysmsapi.aliyuncs.com"
    stored = dump_config(config, reveal_secrets=True)
    assert {key: stored[key] for key in LOGTO_CONFIG} == LOGTO_CONFIG
    # Logto's `type` may be left out; 2 (verification code) is its default.
    minimal = {**CONFIG, "templates": [{"usageType": "Generic", "templateCode": "SMS_1"}]}
    assert aliyun.FACTORY.parse_config(minimal).templates[0].template_type == 2


def test_config_schema_marks_the_secret_and_keeps_logto_keys() -> None:
    schema = aliyun.AliyunSmsConfig.model_json_schema(by_alias=True)
    assert set(schema["required"]) == {"accessKeyId", "accessKeySecret", "signName", "templates"}
    assert schema["properties"]["accessKeySecret"]["writeOnly"] is True
    assert "strictPhoneRegionNumberCheck" in schema["properties"]


@pytest.mark.parametrize(
    ("change", "bad_fields"),
    [
        ({"accessKeyId": None}, ["accessKeyId"]),
        ({"signName": ""}, ["signName"]),
        ({"templates": []}, ["templates"]),
        ({"signatureVersion": "v1"}, ["signatureVersion"]),
        ({"endpoint": "dysmsapi.aliyuncs.com"}, ["endpoint"]),
        ({"templates": [{"type": 3, "usageType": "Generic", "templateCode": "SMS_1"}]}, ["type"]),
        (
            {"templates": [{"usageType": "Generic", "templateCode": {"china": "SMS_1"}}]},
            ["templateCode"],
        ),
    ],
)
def test_invalid_config_names_the_field(change: dict[str, Any], bad_fields: list[str]) -> None:
    raw = {key: value for key, value in {**CONFIG, **change}.items() if value is not None}
    with pytest.raises(InvalidConfigError) as info:
        aliyun.FACTORY.parse_config(raw)
    problems = info.value.details["errors"]
    assert isinstance(problems, list)
    named = " ".join(problem["field"] for problem in problems)
    for field in bad_fields:
        assert field in named
        assert field in info.value.message


def test_duplicate_usage_type_is_invalid() -> None:
    template = {"usageType": "Generic", "templateCode": "SMS_1"}
    with pytest.raises(InvalidConfigError, match="templates"):
        aliyun.FACTORY.parse_config({**CONFIG, "templates": [template, template]})


# --- endpoints ---------------------------------------------------------------------------------


async def test_endpoint_override_changes_url_and_signed_host() -> None:
    intl = "https://dysmsapi.ap-southeast-1.aliyuncs.com"
    _, seen = await send({**CONFIG, "endpoint": intl}, GENERIC)
    request = seen[0]
    assert str(request.url) == intl + "/"
    assert request.headers["host"] == "dysmsapi.ap-southeast-1.aliyuncs.com"
    # Expected value computed with the SDK's `get_authorization` for the regional host.
    assert request.headers["authorization"].endswith(
        "Signature=1526972095456f7600671d86f6cfde4c68f2cd7365862614026296b066db8054"
    )


async def test_region_id_picks_the_regional_host() -> None:
    _, seen = await send({**CONFIG, "regionId": "ap-southeast-1"}, GENERIC)
    assert str(seen[0].url) == "https://dysmsapi.ap-southeast-1.aliyuncs.com/"
    _, seen = await send({**V2_CONFIG, "regionId": "eu-central-1"}, GENERIC)
    assert str(seen[0].url) == "https://dysmsapi.eu-central-1.aliyuncs.com/"
    assert form(seen[0].content)["RegionId"] == "eu-central-1"


async def test_local_endpoint_signs_host_with_port() -> None:
    request = await build({**CONFIG, "endpoint": "http://127.0.0.1:8081"}, GENERIC)
    assert str(request.url) == "http://127.0.0.1:8081/"
    assert signed_headers_of(request)["host"] == "127.0.0.1:8081"


# --- errors ------------------------------------------------------------------------------------


def answer(status: int, body: Any) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, json=body, headers={"content-type": "application/json;charset=utf-8"}
        )

    return handler


def business_error(code: str, message: str) -> dict[str, str]:
    return {"Message": message, "RequestId": "8F3B5A9C-0F5B-4B8E-9C1B-3A0E9C1F2D11", "Code": code}


def gateway_error(code: str, message: str) -> dict[str, str]:
    return {
        "RequestId": "8F3B5A9C-0F5B-4B8E-9C1B-3A0E9C1F2D11",
        "HostId": "dysmsapi.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=Dysmsapi",
    }


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        # Business errors: HTTP 200 with Code != OK (providers.md §4.5).
        (
            200,
            business_error("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
            RateLimitExceededError,
        ),
        (200, business_error("isv.DAY_LIMIT_CONTROL", "触发日发送限额"), RateLimitExceededError),
        (200, business_error("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"), UsageLimitExceededError),
        (200, business_error("isv.OUT_OF_SERVICE", "业务停机"), UsageLimitExceededError),
        (
            200,
            business_error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
            InvalidRequestParametersError,
        ),
        (
            200,
            business_error("isv.SMS_TEMPLATE_ILLEGAL", "模版不合法(不存在或被拉黑)"),
            InvalidConfigError,
        ),
        (
            200,
            business_error("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法(不存在或被拉黑)"),
            InvalidConfigError,
        ),
        (
            200,
            business_error(
                "isv.DOMESTIC_NUMBER_NOT_SUPPORTED", "国际/港澳台消息模板不支持发送境内号码"
            ),
            InvalidConfigError,
        ),
        (200, business_error("isp.RAM_PERMISSION_DENY", "RAM权限DENY"), AuthorizationFailedError),
        # Gateway errors: HTTP 4xx with RequestId/HostId/Code/Message/Recommend.
        (
            404,
            gateway_error("InvalidAccessKeyId.NotFound", "Specified access key is not found."),
            AuthorizationFailedError,
        ),
        (
            400,
            gateway_error("Throttling.User", "Request was denied due to user flow control."),
            RateLimitExceededError,
        ),
    ],
    ids=lambda value: value["Code"] if isinstance(value, dict) else None,
)
async def test_provider_errors_map_to_classes(
    status: int, body: dict[str, str], error_class: type[ConnectorError]
) -> None:
    with pytest.raises(error_class) as info:
        await send(CONFIG, GENERIC, answer(status, body))
    details = info.value.details
    assert details["provider_code"] == body["Code"]
    assert details["provider_message"] == body["Message"]
    assert details["http_status"] == status
    assert details["request_id"] == body["RequestId"]
    assert details["provider"] == "aliyun-short-message-service"
    assert body["Message"] in info.value.message


async def test_system_error_is_a_provider_failure() -> None:
    body = business_error("isp.SYSTEM_ERROR", "System error")
    with pytest.raises(ConnectorError) as info:
        await send(CONFIG, GENERIC, answer(200, body))
    assert type(info.value) is ConnectorError
    assert info.value.details["provider_code"] == "isp.SYSTEM_ERROR"
    with pytest.raises(ConnectorError) as info:
        await send(CONFIG, GENERIC, lambda r: httpx.Response(503, text="<html>busy</html>"))
    assert type(info.value) is ConnectorError
    assert info.value.details["http_status"] == 503


async def test_unknown_code_with_http_200_is_still_an_error() -> None:
    body = business_error("isv.SOMETHING_NEW", "A new refusal")
    with pytest.raises(ConnectorError) as info:
        await send(CONFIG, GENERIC, answer(200, body))
    assert info.value.details["provider_code"] == "isv.SOMETHING_NEW"
    assert info.value.details["http_status"] == 200
    assert "A new refusal" in info.value.message


async def test_signature_mismatch_never_echoes_the_code() -> None:
    # The gateway's message repeats its string to sign, which holds TemplateParam with the code.
    echoed = (
        "Specified signature is not matched with our calculation. server string to sign is:"
        "POST&%2F&AccessKeyId%3Dtestid%26TemplateParam%3D%257B%2522code%2522%253A%2522123456%2522"
    )
    handler = answer(400, gateway_error("SignatureDoesNotMatch", echoed))
    with captured_logs() as logs, pytest.raises(AuthorizationFailedError) as info:
        await send(V2_CONFIG, GENERIC, handler)
    assert info.value.details["provider_code"] == "SignatureDoesNotMatch"
    assert info.value.details["provider_message"] == (
        "Specified signature is not matched with our calculation"
    )
    assert "123456" not in repr(info.value.to_dict())
    assert "123456" not in "\n".join(logs)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"Message": "OK", "RequestId": "R", "Code": "OK"}),
        httpx.Response(200, json={"RequestId": "R"}),
        httpx.Response(200, text="<html>portal</html>"),
    ],
    ids=["ok-without-bizid", "no-code", "html"],
)
async def test_malformed_success_is_an_invalid_response(response: httpx.Response) -> None:
    with pytest.raises(InvalidResponseError):
        await send(CONFIG, GENERIC, lambda request: response)


# --- transport ---------------------------------------------------------------------------------


async def test_conformance() -> None:
    await run_conformance(aliyun.FACTORY)


def test_factory_metadata() -> None:
    assert aliyun.FACTORY.id == "aliyun-short-message-service"
    assert aliyun.FACTORY.target == "aliyun-sms"
    assert aliyun.FACTORY.logo_svg.startswith("<svg")
    assert "accessKeySecret" in aliyun.FACTORY.readme
    templates = aliyun.FACTORY.sample_config["templates"]
    assert {template["usageType"] for template in templates} == {u.value for u in UsageType}


# --- official SDK oracles ----------------------------------------------------------------------


async def test_sdk_pure_functions_agree_with_our_v3_request() -> None:
    from alibabacloud_openapi_util.client import Client as OpenApiUtil

    request = await build(CONFIG, SIGN_IN)
    signed = signed_headers_of(request)
    assert set(signed) == set(SIGNED_HEADERS.split(";"))
    sdk_request = SimpleNamespace(pathname="/", method="POST", query={}, headers=signed)
    expected = OpenApiUtil.get_authorization(
        sdk_request, "ACS3-HMAC-SHA256", signed["x-acs-content-sha256"], "testid", "testsecret"
    )
    assert request.headers["authorization"] == expected
    assert signed["x-acs-content-sha256"] == OpenApiUtil.hex_encode(
        OpenApiUtil.hash(request.content, "ACS3-HMAC-SHA256")
    )


async def test_sdk_pure_functions_agree_with_our_v2_request() -> None:
    from alibabacloud_openapi_util.client import Client as OpenApiUtil

    params = form((await build(V2_CONFIG, GENERIC)).content)
    signature = params.pop("Signature")
    assert signature == OpenApiUtil.get_rpcsignature(params, "POST", "testsecret")


class Recorder:
    """A real HTTP server on 127.0.0.1 that records requests and answers like Aliyun."""

    def __init__(self, status: int = 200, body: Any = None) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorder.seen.append(
                    (self.command, self.path, dict(self.headers), self.rfile.read(length))
                )
                out = json.dumps(body if body is not None else OK_BODY).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def sdk_client(port: int, algorithm: str | None = None) -> Any:
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi.models import Config

    config = Config(
        access_key_id="testid",
        access_key_secret="testsecret",
        endpoint=f"127.0.0.1:{port}",
        protocol="http",
    )
    if algorithm:
        config.signature_algorithm = algorithm
    return Client(config)


def sdk_send(port: int, message: SmsMessage, template: str, algorithm: str | None = None) -> Any:
    from alibabacloud_dysmsapi20170525.models import SendSmsRequest
    from darabonba.runtime import RuntimeOptions

    request = SendSmsRequest(
        phone_numbers=message.digits,
        sign_name=SIGN_NAME,
        template_code=template,
        template_param=json.dumps({"code": message.payload["code"]}, separators=(",", ":")),
    )
    options = RuntimeOptions(autoretry=False, max_attempts=1)
    return sdk_client(port, algorithm).send_sms_with_options(request, options)


async def test_sdk_v3_wire_matches_ours(recorder: Recorder) -> None:
    response = sdk_send(recorder.port, SIGN_IN, "SMS_100000002")
    assert response.body.code == "OK"
    method, path, headers, body = recorder.seen[0]
    theirs = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
    ours = await build({**CONFIG, "endpoint": f"http://127.0.0.1:{recorder.port}"}, SIGN_IN)
    # Same business parameters; the SDK puts them in the query, we in the form body.
    assert form(ours.content) == theirs
    assert method == ours.method == "POST"
    assert body == b""
    for name in ("host", "x-acs-action", "x-acs-version"):
        assert headers[name] == ours.headers[name]
    # Our V3 signing reproduces the SDK's Authorization over exactly what it signed and sent.
    auth = headers["Authorization"]
    names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    signed = {name: headers[name] for name in names}
    assert (
        signing.acs3_authorization(
            "testid", "testsecret", "POST", "/", theirs, signed, signed["x-acs-content-sha256"]
        )
        == auth
    )
    assert set(signed) >= set(SIGNED_HEADERS.split(";")) - {"content-type"}


async def test_sdk_v3_form_body_matches_ours(recorder: Recorder) -> None:
    from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
    from darabonba.runtime import RuntimeOptions

    ours = await build({**CONFIG, "endpoint": f"http://127.0.0.1:{recorder.port}"}, GENERIC)
    # SendSms's own Params (req_body_type formData), with the parameters in the body as we send.
    params = Params(
        action="SendSms",
        version="2017-05-25",
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    options = RuntimeOptions(autoretry=False, max_attempts=1)
    sdk_client(recorder.port).call_api(params, OpenApiRequest(body=form(ours.content)), options)
    _, path, headers, body = recorder.seen[0]
    assert path == "/"
    assert body == ours.content
    assert headers["content-type"] == ours.headers["content-type"] == FORM
    assert headers["x-acs-content-sha256"] == ours.headers["x-acs-content-sha256"]
    names = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert set(SIGNED_HEADERS.split(";")) <= set(names)
    signed = {name: headers[name] for name in names}
    assert (
        signing.acs3_authorization(
            "testid", "testsecret", "POST", "/", {}, signed, signed["x-acs-content-sha256"]
        )
        == headers["Authorization"]
    )


async def test_sdk_v2_wire_matches_ours(recorder: Recorder) -> None:
    response = sdk_send(recorder.port, GENERIC, "SMS_154950909", algorithm="v2")
    assert response.body.biz_id == OK_BODY["BizId"]
    _, path, _, body = recorder.seen[0]
    theirs = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
    assert body == b""
    # Our V2 signing reproduces the SDK's wire Signature.
    signature = theirs.pop("Signature")
    assert signing.rpc_signature("testsecret", "POST", theirs) == signature
    ours = form((await build(V2_CONFIG, GENERIC)).content)
    ours.pop("Signature")
    # Logto also sends RegionId; everything else has the same name, and the same value except
    # the per-request nonce and timestamp.
    assert set(ours) == set(theirs) | {"RegionId"}
    varying = {"SignatureNonce", "Timestamp", "RegionId"}
    assert {k: v for k, v in ours.items() if k not in varying} == {
        k: v for k, v in theirs.items() if k not in varying
    }


def test_sdk_sees_http_200_business_errors_as_responses() -> None:
    # Why the connector checks Code: the SDK does not raise for these either.
    body = business_error("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
    failing = Recorder(200, body)
    try:
        response = sdk_send(failing.port, GENERIC, "SMS_154950909")
    finally:
        failing.close()
    assert response.body.code == "isv.BUSINESS_LIMIT_CONTROL"
