"""Logto's HTTP email connector (`http-email`): POST each email's data as JSON to your service.

Wire format (Logto `connector-http-email`): `{"to": "<address>", "type": "<usage type>",
"payload": {"code": …, "locale": …}, "ip": …}` with your `Authorization` header; your service
renders and sends the email. Ours adds the optional `X-Phoneauth-Signature` of the HTTP SMS
connector.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
from pydantic import Field, SecretStr

from phoneauth.connectors.base import ConnectorType, EmailMessage, SendResult
from phoneauth.connectors.config import ConnectorConfig, EndpointUrl, HeaderSafe
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpEmailConnector, response_json
from phoneauth.connectors.providers.http_sms import SIGNATURE_HEADER, error_message, sign


class HttpEmailConfig(ConnectorConfig):
    endpoint: EndpointUrl = Field(
        title="Endpoint",
        description="Your email service's URL; phoneauth POSTs one JSON request per email.",
    )
    authorization: Annotated[SecretStr | None, HeaderSafe] = Field(
        default=None,
        title="Authorization header",
        description="Sent as is in `Authorization`, e.g. `Bearer <token>`.",
    )
    signing_secret: SecretStr | None = Field(
        default=None,
        alias="signingSecret",
        title="Signing secret",
        description="Optional: sign every request with HMAC-SHA256 in `X-Phoneauth-Signature`.",
    )


class HttpEmail(HttpEmailConnector[HttpEmailConfig]):
    factory_id = "http-email"

    def build_request(self, message: EmailMessage) -> httpx.Request:
        document: dict[str, Any] = {
            "to": message.to,
            "type": message.usage_type.value,
            "payload": dict(message.payload),
        }
        if message.ip:
            document["ip"] = message.ip
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.config.authorization is not None:
            headers["Authorization"] = self.config.authorization.get_secret_value()
        if self.config.signing_secret is not None:
            timestamp = int(self.clock().timestamp())
            secret = self.config.signing_secret.get_secret_value()
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        return self.client.build_request(
            "POST", self.config.endpoint, content=body, headers=headers
        )

    def parse_response(self, response: httpx.Response) -> SendResult:
        if not response.is_success:
            raise self.fallback_error(response, provider_message=error_message(response))
        message_id = None
        if response.content:
            try:
                body = response_json(response)
            except Exception:  # a 2xx with any body counts as accepted, as in Logto
                body = None
            if isinstance(body, dict):
                found = body.get("id", body.get("messageId"))
                message_id = None if found is None else str(found)
        return SendResult(provider_message_id=message_id)


def _fake(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "mail-1"})


FACTORY: ConnectorFactory[HttpEmailConfig] = ConnectorFactory(
    id="http-email",
    target="http-email",
    name="HTTP Email",
    description="Send email via HTTP call: one JSON POST per email to your own service.",
    config_model=HttpEmailConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "endpoint": "https://mail-gateway.example.com/send",
        "authorization": "Bearer <your-token>",
    },
    create=HttpEmail,
    provider_fake=_fake,
    tags=("accepts-any-2xx",),
    type=ConnectorType.EMAIL,
)
