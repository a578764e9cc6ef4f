"""Tencent Cloud SMS: API 3.0 `SendSms` (version 2021-01-11), signed with TC3-HMAC-SHA256.

One signed JSON POST per message. Tencent answers every API-level outcome with HTTP 200, so
success means no `Response.Error` and `SendStatusSet[i].Code == "Ok"` for the one number sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Annotated, Any

import httpx
from pydantic import Field, SecretStr

from phoneauth.connectors.base import SendResult, SmsMessage, UsageType
from phoneauth.connectors.config import CodeTemplates, ConnectorConfig, EndpointUrl, HeaderSafe
from phoneauth.connectors.errors import InsufficientRequestParametersError, InvalidResponseError
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpConnector
from phoneauth.connectors.providers.tencent import responses, signing, status_pull
from phoneauth.connectors.receipts import DeliveryReport, PendingMessage
from phoneauth.connectors.templates import select_template

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
CONTENT_TYPE = "application/json; charset=utf-8"
# One encoder for every message: json.dumps builds a new one per call when given options.
_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class TencentSmsConfig(ConnectorConfig):
    access_key_id: Annotated[str, HeaderSafe] = Field(  # in `Authorization` as is
        alias="accessKeyId",
        min_length=1,
        title="SecretId",
        description="API key id (`AKID…`) from Access Management > API Keys.",
    )
    access_key_secret: SecretStr = Field(
        alias="accessKeySecret",
        min_length=1,
        title="SecretKey",
        description="The SecretKey shown with that SecretId.",
    )
    sign_name: str = Field(
        alias="signName",
        min_length=1,
        title="Signature",
        description="The approved SMS signature's text (not its id).",
    )
    sdk_app_id: str = Field(
        alias="sdkAppId",
        pattern=r"^\d+$",
        title="SDK AppID",
        description="The SMS application's SdkAppId, e.g. `1400006666` (Application Management).",
    )
    region: str = Field(
        pattern=r"^[a-z]{2}-[a-z0-9-]+$",
        title="Region",
        description="Sent as `X-TC-Region`, e.g. `ap-guangzhou`.",
    )
    templates: CodeTemplates = Field(
        title="SMS templates",
        description="The approved TemplateId per usage type; each template has one variable `{1}`.",
    )
    endpoint: EndpointUrl | None = Field(
        default=None,
        title="Endpoint",
        description=f"Default `{DEFAULT_ENDPOINT}`; or a regional or international API host.",
    )


class TencentSmsConnector(HttpConnector[TencentSmsConfig]):
    factory_id = "tencent-short-message-service"
    reports_delivery = True  # polled (status_pull.py), once Tencent support enabled the API

    @cached_property
    def url(self) -> httpx.URL:
        """The endpoint, parsed once: parsing it took longer than signing the request."""
        return httpx.URL((self.config.endpoint or DEFAULT_ENDPOINT) + "/")

    def build_request(self, message: SmsMessage) -> httpx.Request:
        template = select_template(self.config.templates, message)
        if message.payload.get("code") is None:
            raise InsufficientRequestParametersError("The message has no code.", field="code")
        document = {
            "PhoneNumberSet": [message.to],
            "SmsSdkAppId": self.config.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": template.template_code,
            # The code alone: Tencent rejects a parameter count that differs from the template's.
            "TemplateParamSet": [str(message.payload["code"])],
        }
        return self._signed("SendSms", document)

    def _signed(self, action: str, document: dict[str, Any]) -> httpx.Request:
        """A TC3-signed JSON POST of `action` to the endpoint."""
        body = _compact_json(document).encode()
        url = self.url
        host = url.netloc.decode("ascii")  # the Host the server sees, port included
        timestamp = int(self.clock().timestamp())
        authorization = signing.sign(
            secret_id=self.config.access_key_id,
            secret_key=self.config.access_key_secret.get_secret_value(),
            timestamp=timestamp,
            service="sms",
            host=host,
            content_type=CONTENT_TYPE,
            payload=body,
        )
        headers = {
            "Authorization": authorization,
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": "2021-01-11",
            "X-TC-Region": self.config.region,
        }
        return self.client.build_request("POST", url, content=body, headers=headers)

    async def poll_delivery(self, messages: Sequence[PendingMessage]) -> list[DeliveryReport]:
        """Statuses waiting in the app's queue (`PullSmsSendStatus`), whichever ids they name."""
        request = self._signed(status_pull.ACTION, status_pull.document(self.config.sdk_app_id))
        response = await self._exchange(request)
        try:
            return status_pull.reports(response)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InvalidResponseError(
                "Tencent's status answer could not be understood.",
                http_status=response.status_code,
            ) from None

    def parse_response(self, response: httpx.Response) -> SendResult:
        reply = responses.reply_object(response)
        if reply is None and response.is_success:
            raise InvalidResponseError("No `Response` object.", http_status=response.status_code)
        if reply is None or (response.status_code != 200 and "Error" not in reply):
            raise self.fallback_error(response)
        request_id = reply.get("RequestId")
        error = reply.get("Error")
        # The request failed as a whole, or for the number: both arrive with HTTP 200.
        for failure in [error] if isinstance(error, dict) else reply["SendStatusSet"]:
            if failure["Code"] == "Ok":
                continue
            code, text = failure["Code"], failure.get("Message")
            found = responses.provider_error(code, text, response.status_code, request_id)
            if found is None:
                found = self.fallback_error(
                    response, provider_code=code, provider_message=text, request_id=request_id
                )
            raise found
        first = reply["SendStatusSet"][0]
        extras = {
            "request_id": request_id,
            "fee": first.get("Fee"),
            "iso_code": first.get("IsoCode"),
        }
        return SendResult(provider_message_id=str(first["SerialNo"]), details=extras)


FACTORY: ConnectorFactory[TencentSmsConfig] = ConnectorFactory(
    id="tencent-short-message-service",
    target="tencent-sms",
    name="Tencent Cloud SMS",
    description="Send codes through Tencent Cloud SMS with templates approved in its console.",
    config_model=TencentSmsConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "accessKeyId": "AKID<your-secret-id>",
        "accessKeySecret": "<your-secret-key>",
        "signName": "<your-approved-signature>",
        "sdkAppId": "1400000000",
        "region": "ap-guangzhou",
        "templates": [
            {"usageType": usage.value, "templateCode": str(1000001 + index)}
            for index, usage in enumerate(UsageType)
        ],
    },
    create=TencentSmsConnector,
    provider_fake=responses.success_reply,
    polls_delivery=True,
)
