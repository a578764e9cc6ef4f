"""Logto's HTTP email connector (`http-email`): POST each email's data as JSON to your service.

Wire format (Logto `connector-http-email`): `{"to": "<address>", "type": "<usage type>",
"payload": {"code": …, "locale": …}, "ip": …}` with your `Authorization` header; your service
renders and sends the email. Ours adds the optional `X-Phoneauth-Signature` of the HTTP SMS
connector.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from pydantic import Field, SecretStr

from phoneauth.connectors.base import ConnectorType, EmailMessage, SendResult
from phoneauth.connectors.config import ConnectorConfig, EndpointUrl, HeaderSafe
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpEmailConnector
from phoneauth.connectors.providers.http_sms import (
    gateway_document,
    gateway_request,
    gateway_result,
)


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
        document = gateway_document(
            message.to, message.usage_type.value, message.payload, message.ip
        )
        return gateway_request(self.client, self.config, self.clock(), document)

    def parse_response(self, response: httpx.Response) -> SendResult:
        return gateway_result(response, self.fallback_error)


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
