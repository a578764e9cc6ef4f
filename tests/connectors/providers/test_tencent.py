"""Tencent Cloud SMS: TC3 vectors, the exact request, Tencent's HTTP-200 errors, and SDK oracles."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tests import local_http

from phoneauth.connectors import errors
from phoneauth.connectors.base import SmsMessage, UsageType
from phoneauth.connectors.config import dump_config
from phoneauth.connectors.providers import tencent
from phoneauth.connectors.providers.tencent import signing
from phoneauth.connectors.testing import recording_client, run_conformance

FACTORY = tencent.FACTORY

# Keys of the English "Signature v3" document, also used for the SMS-shaped vector.
SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
TIMESTAMP = 1551113065
CLOCK = datetime.fromtimestamp(TIMESTAMP, UTC)
CONTENT_TYPE = "application/json; charset=utf-8"

# The published CVM DescribeInstances example (both doc variants); the \u escapes are literal.
CVM_PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
CVM_HASHED_PAYLOAD = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
CVM_CANONICAL_REQUEST = (
    "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
    "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
)
CVM_STRING_TO_SIGN = (
    "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
    "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
)

SMS_PAYLOAD = (
    '{"PhoneNumberSet":["+8613711112222"],"SmsSdkAppId":"1400006666","SignName":"腾讯云",'
    '"TemplateId":"1110","TemplateParamSet":["123456"]}'
).encode()
SMS_AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/sms/tc3_request, "
    "SignedHeaders=content-type;host, "
    "Signature=84203923e0f5702e9c16829566b63d7bc59b6fcd08bccce3b69d96081b8a2ab7"
)

CONFIG: dict[str, Any] = {
    "accessKeyId": SECRET_ID,
    "accessKeySecret": SECRET_KEY,
    "signName": "腾讯云",
    "sdkAppId": "1400006666",
    "region": "ap-guangzhou",
    "templates": [
        {"usageType": "SignIn", "templateCode": "1101"},
        {"usageType": "Generic", "templateCode": "1110"},
    ],
}
CODE = "123456"
GENERIC = SmsMessage(to="+8613711112222", usage_type=UsageType.GENERIC, payload={"code": CODE})
SIGN_IN = SmsMessage(to="4915112345678", usage_type=UsageType.SIGN_IN, payload={"code": "864209"})

# Shapes from providers.md §5.4 (Tencent docs and the official SDK): every outcome is HTTP 200.
SUCCESS = {
    "Response": {
        "SendStatusSet": [
            {
                "SerialNo": "5000:1045710669157053657849499619",
                "PhoneNumber": "+8613711112222",
                "Fee": 1,
                "SessionContext": "",
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN",
            }
        ],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
    }
}


def request_error(code: str, message: str) -> dict[str, Any]:
    """Tencent's answer when the request as a whole fails."""
    return {
        "Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": "e1b5f3c2-0c5d-4b4e-9d0e-5e5f6a7b8c9d",
        }
    }


def number_error(code: str, message: str) -> dict[str, Any]:
    """Tencent's answer when the request is fine but this number's message was refused."""
    status = {
        "SerialNo": "",
        "PhoneNumber": "+8613711112222",
        "Fee": 0,
        "SessionContext": "",
        "Code": code,
        "Message": message,
        "IsoCode": "CN",
    }
    return {
        "Response": {"SendStatusSet": [status], "RequestId": "7d9c4f5e-1111-4222-8333-944455556666"}
    }


def tencent_answer(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers={"Content-Type": "application/json"}, json=body)


def fixed_clock() -> datetime:
    return CLOCK


def sdk_authorization(content_type: str, host: str, body: bytes, timestamp: int) -> str:
    """The Authorization the doc's steps give, hashed here and keyed by the SDK's `sign_tc3`."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = (
        f"POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\n"
        f"content-type;host\n{hashlib.sha256(body).hexdigest()}"
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n{digest}"
    signature = Sign.sign_tc3(SECRET_KEY, date, "sms", to_sign)
    return (
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


async def send(
    message: SmsMessage, answer: httpx.Response, config: dict[str, Any] | None = None
) -> tuple[Any, list[httpx.Request]]:
    client, seen = recording_client(lambda request: answer)
    async with client:
        connector = FACTORY.build(config or CONFIG, client, clock=fixed_clock)
        return await connector.send(message), seen


# --- TC3-HMAC-SHA256: the published vectors, byte for byte -------------------------------------


def test_en_signature_v3_vector_step_by_step() -> None:
    canonical = signing.canonical_request(
        content_type=CONTENT_TYPE, host="cvm.tencentcloudapi.com", payload=CVM_PAYLOAD
    )
    to_sign = signing.string_to_sign(timestamp=TIMESTAMP, service="cvm", canonical=canonical)
    key = signing.signing_key(SECRET_KEY, "2019-02-25", "cvm")
    # tencentcloud.com "Signature v3" (EN), CVM DescribeInstances example; providers.md §8.1
    assert signing.hashed_payload(CVM_PAYLOAD) == CVM_HASHED_PAYLOAD
    # tencentcloud.com "Signature v3" (EN), step 1 CanonicalRequest; providers.md §8.1
    assert canonical == CVM_CANONICAL_REQUEST
    # tencentcloud.com "Signature v3" (EN), step 2 StringToSign; providers.md §8.1
    assert to_sign == CVM_STRING_TO_SIGN
    # providers.md §8.1 [computed] SecretSigning of the EN key for service cvm
    assert key.hex() == "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1"
    # tencentcloud.com "Signature v3" (EN), step 3 Signature; providers.md §8.1
    assert (
        signing.signature(key, to_sign)
        == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_en_signature_v3_vector_authorization() -> None:
    authorization = signing.sign(
        secret_id="AKID**********************0123456789EXAMPLE",
        secret_key=SECRET_KEY,
        timestamp=TIMESTAMP,
        service="cvm",
        host="cvm.tencentcloudapi.com",
        content_type=CONTENT_TYPE,
        payload=CVM_PAYLOAD,
    )
    # tencentcloud.com "Signature v3" (EN), step 4 Authorization; providers.md §8.1
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKID**********************0123456789EXAMPLE/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_cn_signature_v3_vector_with_the_masked_key_used_literally() -> None:
    masked_key = "Gu5t9xGARNpq86cd98joQYCN3*******"
    canonical = signing.canonical_request(
        content_type=CONTENT_TYPE, host="cvm.tencentcloudapi.com", payload=CVM_PAYLOAD
    )
    to_sign = signing.string_to_sign(timestamp=TIMESTAMP, service="cvm", canonical=canonical)
    # cloud.tencent.com "签名方法 v3" (CN), same intermediates; providers.md §8.1
    assert (signing.hashed_payload(CVM_PAYLOAD), canonical, to_sign) == (
        CVM_HASHED_PAYLOAD,
        CVM_CANONICAL_REQUEST,
        CVM_STRING_TO_SIGN,
    )
    key = signing.signing_key(masked_key, signing.request_date(TIMESTAMP), "cvm")
    # cloud.tencent.com "签名方法 v3" (CN), 计算签名 with the masked key; providers.md §8.1
    assert (
        signing.signature(key, to_sign)
        == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    )


def test_the_date_is_the_utc_day_of_the_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    # Run in UTC+8, where the local day differs, so a local-time date would fail here.
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        # "Signature v3" (EN and CN): 1551113065 is 2019-02-26 in UTC+8, yet Date is 2019-02-25.
        assert signing.request_date(1551113065) == "2019-02-25"
    finally:
        monkeypatch.undo()
        time.tzset()
    assert signing.credential_scope(1551113065, "sms") == "2019-02-25/sms/tc3_request"
    # One second before midnight UTC and midnight itself fall on different days.
    assert signing.request_date(1551139199) == "2019-02-25"
    assert signing.request_date(1551139200) == "2019-02-26"


def test_sms_shaped_vector_step_by_step() -> None:
    canonical = signing.canonical_request(
        content_type=CONTENT_TYPE, host="sms.tencentcloudapi.com", payload=SMS_PAYLOAD
    )
    to_sign = signing.string_to_sign(timestamp=TIMESTAMP, service="sms", canonical=canonical)
    key = signing.signing_key(SECRET_KEY, "2019-02-25", "sms")
    # providers.md §8.1 [computed] SMS-shaped TC3 vector: HashedRequestPayload
    assert (
        signing.hashed_payload(SMS_PAYLOAD)
        == "a307992daabbb4e52cbfcd0e472c1be08179891977bbd4b10c687b1e20bcc91a"
    )
    # providers.md §8.1 [computed] SMS-shaped TC3 vector: HashedCanonicalRequest
    assert to_sign.endswith("\n6beb4b410572b9b1d8fd8e22a0707dc6a461dfabbeba5a6c5860bf6e71481980")
    # providers.md §8.1 [computed] SMS-shaped TC3 vector: SecretSigning
    assert key.hex() == "40058bf55f59e334e3a85c4564edb55159f3aedecb70a3515bb9de63de33bed1"
    # providers.md §8.1 [computed] SMS-shaped TC3 vector: Signature
    assert (
        signing.signature(key, to_sign)
        == "84203923e0f5702e9c16829566b63d7bc59b6fcd08bccce3b69d96081b8a2ab7"
    )


async def test_the_connector_reproduces_the_sms_shaped_vector() -> None:
    _, seen = await send(GENERIC, tencent_answer(SUCCESS))
    # providers.md §8.1 [computed] SMS-shaped TC3 vector: payload bytes and Authorization
    assert seen[0].content == SMS_PAYLOAD
    assert seen[0].headers["Authorization"] == SMS_AUTHORIZATION


def test_canonical_header_values_are_lower_cased() -> None:
    shouting = signing.canonical_request(
        content_type="Application/JSON; Charset=UTF-8", host="SMS.TencentCloudAPI.com", payload=b""
    )
    quiet = signing.canonical_request(
        content_type="application/json; charset=utf-8", host="sms.tencentcloudapi.com", payload=b""
    )
    assert shouting == quiet


# --- The official SDK as an oracle ---------------------------------------------------------------


def test_sdk_sign_tc3_agrees_with_our_key_chain_on_our_request() -> None:
    canonical = signing.canonical_request(
        content_type=CONTENT_TYPE, host="sms.tencentcloudapi.com", payload=SMS_PAYLOAD
    )
    to_sign = signing.string_to_sign(timestamp=TIMESTAMP, service="sms", canonical=canonical)
    ours = signing.signature(signing.signing_key(SECRET_KEY, "2019-02-25", "sms"), to_sign)
    assert Sign.sign_tc3(SECRET_KEY, "2019-02-25", "sms", to_sign) == ours
    assert SMS_AUTHORIZATION.endswith(f"Signature={ours}")


async def test_sdk_sign_tc3_verifies_what_the_connector_sends() -> None:
    message = SmsMessage(to="+8613800138000", usage_type=UsageType.SIGN_IN, payload={"code": "9"})
    _, seen = await send(message, tencent_answer(SUCCESS))
    request = seen[0]
    # Rebuild the signature from what went on the wire, not from the connector's inputs.
    assert request.url.raw_path == b"/"
    assert request.headers["Authorization"] == sdk_authorization(
        request.headers["Content-Type"],
        request.headers["Host"],
        request.content,
        int(request.headers["X-TC-Timestamp"]),
    )


class Recorder:
    """A loopback Tencent: records each request and answers with `application/json` exactly."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.reply: object = SUCCESS
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                recorder.seen.append((self.command, self.path, dict(self.headers), body))
                out = json.dumps(recorder.reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    # The SDK and httpx both honour proxy variables; loopback traffic must not go through one.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    server = Recorder()
    yield server
    server.close()


def sdk_send(host: str) -> dict[str, Any]:
    """SendSms through the official SDK's CommonClient, pointed at the recorder over http."""
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=host))
    client = CommonClient(
        "sms", "2021-01-11", Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile
    )
    params = {
        "PhoneNumberSet": ["+8613711112222"],
        "SmsSdkAppId": "1400006666",
        "SignName": "腾讯云",
        "TemplateId": "1110",
        "TemplateParamSet": [CODE],
    }
    result: dict[str, Any] = client.call_json("SendSms", params)
    return result


async def test_our_signing_reproduces_the_sdk_request_on_the_wire(recorder: Recorder) -> None:
    await asyncio.to_thread(sdk_send, recorder.host)
    _, _, headers, body = recorder.seen[0]
    # The SDK sends `application/json` and `\u`-escaped JSON with spaces: other bytes, same rules.
    ours = signing.sign(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        timestamp=int(headers["X-TC-Timestamp"]),
        service="sms",
        host=headers["Host"],
        content_type=headers["Content-Type"],
        payload=body,
    )
    assert ours == headers["Authorization"]


async def test_the_connector_sends_what_the_sdk_sends(recorder: Recorder) -> None:
    await asyncio.to_thread(sdk_send, recorder.host)
    sdk_method, sdk_path, sdk_headers, sdk_body = recorder.seen[0]
    sdk_time = datetime.fromtimestamp(int(sdk_headers["X-TC-Timestamp"]), UTC)
    config = {**CONFIG, "endpoint": f"http://{recorder.host}"}
    async with local_http.async_client() as client:
        result = await FACTORY.build(config, client, clock=lambda: sdk_time).send(GENERIC)
    assert result.provider_message_id == "5000:1045710669157053657849499619"
    method, path, headers, body = recorder.seen[1]
    assert (method, path) == (sdk_method, sdk_path) == ("POST", "/")
    for name in ("Host", "X-TC-Action", "X-TC-Version", "X-TC-Region", "X-TC-Timestamp"):
        assert headers[name] == sdk_headers[name], name
    assert headers["Content-Type"].split(";")[0] == sdk_headers["Content-Type"]
    credential, signed_headers, _ = headers["Authorization"].split(", ")
    assert [credential, signed_headers] == sdk_headers["Authorization"].split(", ")[:2]
    assert json.loads(body) == json.loads(sdk_body)


@pytest.mark.parametrize(
    ("reply", "error_class"),
    [
        (
            request_error("AuthFailure.SecretIdNotFound", "The SecretId is not found."),
            errors.AuthorizationFailedError,
        ),
        (
            request_error(
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "template is not approved or request content does not match the approved template",
            ),
            errors.InvalidConfigError,
        ),
    ],
    ids=["auth", "template"],
)
async def test_the_sdk_raises_on_the_errors_we_map(
    recorder: Recorder, reply: dict[str, Any], error_class: type[errors.ConnectorError]
) -> None:
    recorder.reply = reply
    with pytest.raises(TencentCloudSDKException) as sdk_error:
        await asyncio.to_thread(sdk_send, recorder.host)
    config = {**CONFIG, "endpoint": f"http://{recorder.host}"}
    async with local_http.async_client() as client:
        with pytest.raises(error_class) as ours:
            await FACTORY.build(config, client).send(GENERIC)
    assert ours.value.details["provider_code"] == sdk_error.value.get_code()
    assert ours.value.details["request_id"] == sdk_error.value.get_request_id()


async def test_the_sdk_accepts_a_per_number_failure_that_we_must_catch(recorder: Recorder) -> None:
    recorder.reply = number_error(
        "LimitExceeded.PhoneNumberDailyLimit",
        "the number of sms messages sent from a single mobile number every day exceeds the limit",
    )
    answer = await asyncio.to_thread(sdk_send, recorder.host)
    assert answer["Response"]["SendStatusSet"][0]["Code"] != "Ok"  # no exception from the SDK
    config = {**CONFIG, "endpoint": f"http://{recorder.host}"}
    async with local_http.async_client() as client:
        with pytest.raises(errors.RateLimitExceededError):
            await FACTORY.build(config, client).send(GENERIC)


# --- The exact request ----------------------------------------------------------------------------


def expected_headers(body: bytes, host: str = "sms.tencentcloudapi.com") -> dict[str, str]:
    authorization = sdk_authorization(CONTENT_TYPE, host, body, TIMESTAMP)
    return {
        "Authorization": authorization,
        "Content-Type": "application/json; charset=utf-8",
        "Host": host,
        "X-TC-Action": "SendSms",
        "X-TC-Timestamp": "1551113065",
        "X-TC-Version": "2021-01-11",
        "X-TC-Region": "ap-guangzhou",
    }


async def test_generic_message_request() -> None:
    result, seen = await send(GENERIC, tencent_answer(SUCCESS))
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://sms.tencentcloudapi.com/"
    assert request.content == (
        b'{"PhoneNumberSet":["+8613711112222"],"SmsSdkAppId":"1400006666",'
        b'"SignName":"\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91","TemplateId":"1110",'
        b'"TemplateParamSet":["123456"]}'
    )
    for name, value in expected_headers(request.content).items():
        assert request.headers[name] == value, name
    assert result.provider_message_id == "5000:1045710669157053657849499619"
    assert result.details == {
        "request_id": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
        "fee": 1,
        "iso_code": "CN",
    }


async def test_sign_in_message_request_uses_the_sign_in_template_and_a_plus_number() -> None:
    _, seen = await send(SIGN_IN, tencent_answer(SUCCESS))
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://sms.tencentcloudapi.com/"
    assert request.content == (
        b'{"PhoneNumberSet":["+4915112345678"],"SmsSdkAppId":"1400006666",'
        b'"SignName":"\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91","TemplateId":"1101",'
        b'"TemplateParamSet":["864209"]}'
    )
    for name, value in expected_headers(request.content).items():
        assert request.headers[name] == value, name
    assert request.headers["Authorization"].startswith(
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/2019-02-25/sms/tc3_request, "
        "SignedHeaders=content-type;host, Signature="
    )


@pytest.mark.parametrize(
    "endpoint",
    ["https://sms.ap-guangzhou.tencentcloudapi.com", "https://sms.intl.tencentcloudapi.com"],
)
async def test_endpoint_override_changes_url_host_and_signature(endpoint: str) -> None:
    host = endpoint.removeprefix("https://")
    _, default = await send(GENERIC, tencent_answer(SUCCESS))
    _, seen = await send(GENERIC, tencent_answer(SUCCESS), {**CONFIG, "endpoint": endpoint})
    request = seen[0]
    assert str(request.url) == f"{endpoint}/"
    assert request.headers["Host"] == host
    assert (
        request.headers["Authorization"] == expected_headers(request.content, host)["Authorization"]
    )
    assert request.headers["Authorization"] != default[0].headers["Authorization"]
    assert request.content == default[0].content


async def test_only_the_code_is_a_template_parameter() -> None:
    # Logto sends every payload value, so `uiLocales` became a second parameter (logto.md §2.6).
    message = SmsMessage(
        to="+8613711112222",
        payload={
            "code": CODE,
            "locale": "zh-CN",
            "uiLocales": "zh-CN",
            "application": {"name": "x"},
        },
    )
    _, seen = await send(message, tencent_answer(SUCCESS))
    assert json.loads(seen[0].content)["TemplateParamSet"] == [CODE]


async def test_a_message_without_code_is_refused_before_sending() -> None:
    message = SmsMessage(to="+8613711112222", payload={"locale": "en"})
    with pytest.raises(errors.InsufficientRequestParametersError):
        await send(message, tencent_answer(SUCCESS))


# --- Configuration -------------------------------------------------------------------------------


def test_a_logto_config_validates_unchanged() -> None:
    # The shape of Logto's connector-tencent-sms config (logto.md §2.6): four base usage types.
    logto = {
        "accessKeyId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "accessKeySecret": "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        "signName": "腾讯云",
        "sdkAppId": "1400006666",
        "region": "ap-guangzhou",
        "templates": [
            {"usageType": "SignIn", "templateCode": "1000001"},
            {"usageType": "Register", "templateCode": "1000002"},
            {"usageType": "ForgotPassword", "templateCode": "1000003"},
            {"usageType": "Generic", "templateCode": "1000004"},
        ],
    }
    config = FACTORY.parse_config(logto)
    assert config.access_key_secret.get_secret_value() == logto["accessKeySecret"]
    assert dump_config(config, reveal_secrets=True) == logto
    assert "Gu5t9x" not in repr(config)


def test_an_invalid_config_names_the_bad_fields() -> None:
    bad = {**CONFIG, "region": "Guangzhou", "sdkAppId": "app-14000"}
    del bad["accessKeySecret"]
    with pytest.raises(errors.InvalidConfigError) as info:
        FACTORY.parse_config(bad)
    fields = {problem["field"] for problem in info.value.details["errors"]}
    assert fields == {"region", "sdkAppId", "accessKeySecret"}
    assert "Gu5t9x" not in str(info.value.to_dict())


def test_templates_must_be_code_templates() -> None:
    with pytest.raises(errors.InvalidConfigError) as info:
        FACTORY.parse_config(
            {**CONFIG, "templates": [{"usageType": "Generic", "content": "{{code}}"}]}
        )
    assert "templates" in str(info.value)


def test_the_secret_key_is_a_write_only_field() -> None:
    schema = tencent.TencentSmsConfig.model_json_schema(by_alias=True)
    assert schema["properties"]["accessKeySecret"]["writeOnly"] is True
    assert set(schema["required"]) == {
        "accessKeyId",
        "accessKeySecret",
        "signName",
        "sdkAppId",
        "region",
        "templates",
    }


# --- Tencent's answers ---------------------------------------------------------------------------


ERRORS = [
    (
        request_error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature.",
        ),
        errors.AuthorizationFailedError,
    ),
    (
        request_error("AuthFailure.SignatureExpire", "Signature expired. Timestamp is too old."),
        errors.AuthorizationFailedError,
    ),
    (
        request_error(
            "RequestLimitExceeded", "Your current request times equals to `20` in a second."
        ),
        errors.RateLimitExceededError,
    ),
    (
        number_error(
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            "the number of sms sent to a single number within 30 seconds exceeds the limit",
        ),
        errors.RateLimitExceededError,
    ),
    (
        number_error(
            "LimitExceeded.AppDailyLimit",
            "the number of sms messages sent every day exceeds the upper limit",
        ),
        errors.UsageLimitExceededError,
    ),
    (
        number_error(
            "FailedOperation.InsufficientBalanceInSmsPackage",
            "insufficient balance in SMS package",
        ),
        errors.UsageLimitExceededError,
    ),
    (
        number_error(
            "InvalidParameterValue.IncorrectPhoneNumber",
            "incorrect number format",
        ),
        errors.InvalidRequestParametersError,
    ),
    (
        number_error(
            "FailedOperation.PhoneNumberInBlacklist",
            "the phone number is in the blocklist",
        ),
        errors.InvalidRequestParametersError,
    ),
    (
        request_error(
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "signature format is incorrect or signature is not approved",
        ),
        errors.InvalidConfigError,
    ),
    (
        number_error(
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            "request content does not match the approved template content",
        ),
        errors.InvalidConfigError,
    ),
    (
        request_error(
            "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone",
            "a Chinese mainland template cannot be used to send to global numbers",
        ),
        errors.InvalidConfigError,
    ),
    (
        request_error(
            "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
            "SmsSdkAppId verification failed",
        ),
        errors.InvalidConfigError,
    ),
    (
        number_error("InternalError.Timeout", "request timed out"),
        errors.ConnectorError,
    ),
]


@pytest.mark.parametrize(
    ("reply", "error_class"),
    ERRORS,
    ids=[
        (reply["Response"].get("Error") or reply["Response"]["SendStatusSet"][0])["Code"]
        for reply, _ in ERRORS
    ],
)
async def test_http_200_errors_are_mapped(
    reply: dict[str, Any], error_class: type[errors.ConnectorError]
) -> None:
    failure = reply["Response"].get("Error") or reply["Response"]["SendStatusSet"][0]
    with pytest.raises(errors.ConnectorError) as info:
        await send(GENERIC, tencent_answer(reply))
    error = info.value
    assert type(error) is error_class
    assert error.details["provider_code"] == failure["Code"]
    assert error.details["provider_message"] == failure["Message"]
    assert error.details["http_status"] == 200
    assert error.details["request_id"] == reply["Response"]["RequestId"]
    assert failure["Message"] in error.message
    shown = json.dumps(error.to_dict(), ensure_ascii=False)
    for private in (CODE, SECRET_KEY, "+8613711112222"):
        assert private not in shown


async def test_an_unknown_code_gets_the_fallback_error() -> None:
    reply = request_error("FailedOperation.SomethingNew", "something new went wrong")
    with pytest.raises(errors.ConnectorError) as info:
        await send(GENERIC, tencent_answer(reply))
    assert type(info.value) is errors.ConnectorError
    assert info.value.details["provider_code"] == "FailedOperation.SomethingNew"
    assert info.value.details["request_id"] == reply["Response"]["RequestId"]
    assert "something new went wrong" in info.value.message


@pytest.mark.parametrize(
    "reply",
    [
        {"Response": {"SendStatusSet": [], "RequestId": "r"}},
        {"Response": {"SendStatusSet": None, "RequestId": "r"}},
        {"Response": {"RequestId": "r"}},
        {"Error": {"Code": "AuthFailure.SignatureFailure"}},
    ],
    ids=["empty-status-set", "null-status-set", "no-status-set", "no-response-object"],
)
async def test_a_200_without_a_status_is_not_a_success(reply: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidResponseError):
        await send(GENERIC, tencent_answer(reply))


async def test_an_error_on_a_gateway_status_still_reads_the_tencent_code() -> None:
    reply = request_error("InternalError.OtherError", "internal error")
    with pytest.raises(errors.ConnectorError) as info:
        await send(GENERIC, tencent_answer(reply, status=502))
    assert info.value.details["provider_code"] == "InternalError.OtherError"
    assert info.value.details["http_status"] == 502


# --- Transport failures against real sockets -----------------------------------------------------


# --- The shared kit ------------------------------------------------------------------------------


async def test_conformance() -> None:
    await run_conformance(FACTORY)


def test_factory_metadata_is_logtos() -> None:
    metadata = FACTORY.metadata()
    assert (metadata["id"], metadata["target"]) == ("tencent-short-message-service", "tencent-sms")
    assert metadata["logo"].startswith("data:image/svg+xml;base64,")
    assert "accessKeySecret" in metadata["readme"]
