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
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

import httpx
from pydantic import Field, SecretStr

from phoneauth.connectors.base import SendResult, SmsMessage
from phoneauth.connectors.config import ConnectorConfig, EndpointUrl, HeaderSafe
from phoneauth.connectors.errors import ConnectorError
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


class GatewaySettings(Protocol):
    """What a JSON gateway connector's config holds (HTTP SMS, HTTP email)."""

    @property
    def endpoint(self) -> str: ...
    @property
    def authorization(self) -> SecretStr | None: ...
    @property
    def signing_secret(self) -> SecretStr | None: ...


def gateway_request(
    client: httpx.AsyncClient,
    config: GatewaySettings,
    now: datetime,
    document: dict[str, Any],
) -> httpx.Request:
    """Logto's JSON POST (`{to, type, payload, ip}`) with the `Authorization` header, signed
    when a signing secret is set: the one wire format of the HTTP SMS and email connectors."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if config.authorization is not None:
        headers["Authorization"] = config.authorization.get_secret_value()
    if config.signing_secret is not None:
        secret = config.signing_secret.get_secret_value()
        headers[SIGNATURE_HEADER] = sign(secret, int(now.timestamp()), body)
    return client.build_request("POST", config.endpoint, content=body, headers=headers)


def gateway_document(to: str, usage_type: str, payload: Any, ip: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {"to": to, "type": usage_type, "payload": dict(payload)}
    if ip:
        document["ip"] = ip
    return document


def gateway_result(response: httpx.Response, refused: Callable[..., ConnectorError]) -> SendResult:
    """Any 2xx is accepted, as in Logto; `id` or `messageId` of a JSON answer is the message id.
    Otherwise `refused` (the connector's `fallback_error`) names the gateway's own message."""
    if not response.is_success:
        raise refused(response, provider_message=error_message(response))
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


class HttpSmsConnector(HttpConnector[HttpSmsConfig]):
    factory_id = "http-sms"

    def build_request(self, message: SmsMessage) -> httpx.Request:
        document = gateway_document(
            message.digits, message.usage_type.value, message.payload, message.ip
        )
        return gateway_request(self.client, self.config, self.clock(), document)

    def parse_response(self, response: httpx.Response) -> SendResult:
        return gateway_result(response, self.fallback_error)


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
