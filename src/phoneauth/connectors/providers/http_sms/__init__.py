"""Logto's HTTP SMS connector: POST the message as JSON to your own gateway, optionally signed.

Wire format (Logto `connector-http-sms`): `{"to": "<digits>", "type": "<usage type>", "payload":
{"code": …, "locale": …}, "ip": …}` with your `Authorization` header. Ours adds an optional
`X-Phoneauth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` so the gateway
can prove the request came from phoneauth and is fresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated, Any

import httpx
from pydantic import Field, SecretStr

from phoneauth.connectors.base import SendResult, SmsMessage
from phoneauth.connectors.config import ConnectorConfig, EndpointUrl, HeaderSafe
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpConnector, response_json

SIGNATURE_HEADER = "X-Phoneauth-Signature"
MAX_ERROR_MESSAGE = 200
"""Characters of the gateway's error `message` passed on to the caller."""


class HttpSmsConfig(ConnectorConfig):
    endpoint: EndpointUrl = Field(
        title="Endpoint",
        description="Your gateway's URL; phoneauth POSTs one JSON request per message.",
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


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for one request body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300
) -> bool:
    """For gateways written in Python: check a signature and its freshness."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class HttpSmsConnector(HttpConnector[HttpSmsConfig]):
    factory_id = "http-sms"

    def build_request(self, message: SmsMessage) -> httpx.Request:
        document: dict[str, Any] = {
            "to": message.digits,
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


def error_message(response: httpx.Response) -> str | None:
    """The `message` (or `error`) string of a JSON error answer, else `None`.

    Never the raw body: the endpoint may not be the operator's gateway at all, and its answer must
    not be read out to whoever set the endpoint.
    """
    try:
        body = response.json()
    except ValueError:
        return None
    found = body.get("message", body.get("error")) if isinstance(body, dict) else None
    if not isinstance(found, str):
        return None
    text = "".join(char for char in found if char.isprintable()).strip()
    return text[:MAX_ERROR_MESSAGE] or None


def _fake(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "gw-1"})


FACTORY: ConnectorFactory[HttpSmsConfig] = ConnectorFactory(
    id="http-sms",
    target="http-sms",
    name="HTTP SMS",
    description="Send messages through your own gateway: one JSON POST per message.",
    config_model=HttpSmsConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "endpoint": "https://sms-gateway.example.com/send",
        "authorization": "Bearer <your-token>",
    },
    create=HttpSmsConnector,
    provider_fake=_fake,
    tags=("accepts-any-2xx",),
)
