"""Aliyun (Alibaba Cloud) SMS: Dysmsapi 2017-05-25 `SendSms` with a template kept at Aliyun.

Same config as Logto's `connector-aliyun-sms`. One form-encoded POST per message, signed with V3
`ACS3-HMAC-SHA256` (the current SDK's default) or, with `signatureVersion: "v2"`, the RPC
HMAC-SHA1 signature Logto uses. Business errors come back with HTTP 200, so `Code` decides.
Delivery statuses are polled with `QuerySendDetails`, signed the same way (send_details.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import httpx

from phoneauth.connectors.base import SendResult, SmsMessage, UsageType
from phoneauth.connectors.errors import (
    InsufficientRequestParametersError,
    InvalidRequestParametersError,
    InvalidResponseError,
)
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpConnector
from phoneauth.connectors.providers.aliyun import send_details, signing
from phoneauth.connectors.providers.aliyun.config import AliyunSmsConfig
from phoneauth.connectors.providers.aliyun.error_codes import error_class, safe_message
from phoneauth.connectors.receipts import DeliveryReport, PendingMessage
from phoneauth.connectors.templates import select_template

ACTION, VERSION = "SendSms", "2017-05-25"
FORM = "application/x-www-form-urlencoded"
# One encoder for every message: json.dumps builds a new one per call when given options.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


class AliyunSmsConnector(HttpConnector[AliyunSmsConfig]):
    factory_id = "aliyun-short-message-service"
    reports_delivery = True  # polled: `QuerySendDetails` per message (send_details.py)

    def business_params(self, message: SmsMessage) -> dict[str, str]:
        """SendSms parameters; TemplateParam carries only the code (never locale: Logto #7121)."""
        code = message.payload.get("code")
        if code is None or code == "":
            raise InsufficientRequestParametersError("The message has no code.", field="code")
        template = select_template(self.config.templates, message)
        strict = self.config.strict_phone_region_number_check
        return {
            "PhoneNumbers": message.digits,
            "SignName": self.config.sign_name,
            "TemplateCode": template.code_for(message.digits, strict=strict),
            "TemplateParam": _compact_json({"code": str(code)}),
        }

    @cached_property
    def url(self) -> httpx.URL:
        """The endpoint, parsed once: httpx re-parses a string URL on every request."""
        return httpx.URL(self.config.base_url + "/")

    def build_request(self, message: SmsMessage) -> httpx.Request:
        return self._signed(ACTION, self.business_params(message))

    def _signed(self, action: str, params: dict[str, str]) -> httpx.Request:
        """A signed form POST of `action` to the endpoint: V3 headers, or V2 `Signature`."""
        config, url = self.config, self.url
        secret = config.access_key_secret.get_secret_value()
        timestamp, nonce = signing.acs_timestamp(self.clock()), self.nonce()
        if config.signature_version == "v2":
            params |= {
                "AccessKeyId": config.access_key_id,
                "Action": action,
                "Format": "json",
                "RegionId": config.region_id,
                "SignatureMethod": "HMAC-SHA1",
                "SignatureNonce": nonce,
                "SignatureVersion": "1.0",
                "Timestamp": timestamp,
                "Version": VERSION,
            }
            params["Signature"] = signing.rpc_signature(secret, "POST", params)
        # A form body, never the query string: URLs end up in logs, and TemplateParam is the code
        # (QuerySendDetails' PhoneNumber is the full number).
        body = signing.canonical_query(params).encode()
        if config.signature_version == "v2":
            return self.client.build_request(
                "POST", url, content=body, headers={"Content-Type": FORM}
            )
        # Sign the Host that httpx sends (with the port of a local endpoint) and these bytes.
        signed = {
            "host": url.netloc.decode("ascii"),
            "content-type": FORM,
            "x-acs-action": action,
            "x-acs-version": VERSION,
            "x-acs-date": timestamp,
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": signing.sha256_hex(body),
        }
        authorization = signing.acs3_authorization(
            config.access_key_id,
            secret,
            "POST",
            url.path,
            {},
            signed,
            signed["x-acs-content-sha256"],
        )
        # All headers at once (updating httpx's Headers afterwards costs more than signing), in
        # the order they always had: Content-Length first, as httpx put it before the update.
        headers = {"Content-Length": str(len(body)), **signed, "Authorization": authorization}
        return self.client.build_request("POST", url, content=body, headers=headers)

    def parse_response(self, response: httpx.Response) -> SendResult:
        body = self._reply(response)
        return SendResult(str(body["BizId"]), details={"request_id": body.get("RequestId")})

    def _reply(self, response: httpx.Response) -> dict[str, Any]:
        """Aliyun's answer when its `Code` is `OK` (HTTP 200); its error as a `ConnectorError`."""
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("Code"), str):
            if response.is_success:
                raise InvalidResponseError(
                    "Aliyun answered without a Code.", http_status=response.status_code
                )
            raise self.fallback_error(response)
        code, message = body["Code"], safe_message(body.get("Message"))
        if response.status_code == 200 and code == "OK":
            return body
        cls = error_class(code)
        if cls is None:
            error = self.fallback_error(response, provider_code=code, provider_message=message)
        else:
            error = cls(
                f"Aliyun SMS refused the request ({code}): {message or 'no message'}",
                provider_code=code,
                provider_message=message,
                http_status=response.status_code,
            )
        error.details["request_id"] = body.get("RequestId")
        raise error

    async def poll_delivery(self, messages: Sequence[PendingMessage]) -> list[DeliveryReport]:
        """Each message's status by `QuerySendDetails`, which needs its number and send date:
        one request per message, skipping those whose number is not known."""
        found = []
        for message in messages:
            params = send_details.params(message)
            if params is None:
                continue
            response = await self._exchange(self._signed(send_details.ACTION, params))
            try:
                report = send_details.report(message.provider_message_id, self._reply(response))
            except InvalidRequestParametersError:
                continue  # this message's query only (say, a number Aliyun refuses): not the rest
            except (KeyError, TypeError, ValueError, AttributeError):
                raise InvalidResponseError(
                    "Aliyun's status answer could not be understood.",
                    http_status=response.status_code,
                ) from None
            if report is not None:
                found.append(report)
        return found


def _fake(request: httpx.Request) -> httpx.Response:
    """Aliyun's answer to an accepted SendSms, whichever signature the request used."""
    return httpx.Response(
        200,
        json={
            "Message": "OK",
            "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
            "Code": "OK",
            "BizId": "900619746936498440^0",
        },
    )


FACTORY: ConnectorFactory[AliyunSmsConfig] = ConnectorFactory(
    id="aliyun-short-message-service",
    target="aliyun-sms",
    name="Aliyun SMS",
    description="Alibaba Cloud SMS (Dysmsapi SendSms) with templates approved at Aliyun.",
    config_model=AliyunSmsConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "accessKeyId": "<access-key-id>",
        "accessKeySecret": "<access-key-secret>",
        "signName": "<signature-name>",
        "templates": [
            {"type": 2, "usageType": usage.value, "templateCode": "<template-code>"}
            for usage in UsageType
        ],
        "strictPhoneRegionNumberCheck": False,
    },
    create=AliyunSmsConnector,
    provider_fake=_fake,
    polls_delivery=True,
    status_query_needs_recipient=True,
)
