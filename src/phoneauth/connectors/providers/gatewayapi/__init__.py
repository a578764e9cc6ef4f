"""GatewayAPI (gatewayapi.com / gatewayapi.eu): one JSON POST to the REST `/rest/mtsms` per message.

Same wire format as Logto's `connector-gatewayapi-sms` (Basic auth with the API token as user name
and an empty password); unlike Logto, GatewayAPI's hex error codes are mapped to specific errors.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr

from phoneauth.connectors.base import SendResult, SmsMessage
from phoneauth.connectors.config import ConnectorConfig, ContentTemplates, EndpointUrl
from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidConfigError,
    InvalidRequestParametersError,
    UsageLimitExceededError,
)
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpConnector, basic_auth
from phoneauth.connectors.providers.gatewayapi.receipts import GatewayApiReceipts
from phoneauth.connectors.templates import default_content_templates, render_sms

DEFAULT_ENDPOINT = "https://gatewayapi.com/rest/mtsms"
EU_ENDPOINT = "https://gatewayapi.eu/rest/mtsms"

# GatewayAPI's API error codes (docs `errors.rst`, "API Errors"), most specific class per code.
_BY_CODE: dict[int, type[ConnectorError]] = {
    # Invalid user name/password/IP, unauthorized IP, bad signature method, OAuth key/signature/
    # timestamp/nonce, invalid token, account frozen.
    **dict.fromkeys(
        (0x0210, 0x0211, 0x0212, 0x0213, 0x0221, 0x0223, 0x0224, 0x0225, 0x0226, 0x0229, 0x022A),
        AuthorizationFailedError,
    ),
    # Recipient temporarily or permanently blacklisted; its country or operator not allowed.
    **dict.fromkeys((0x0214, 0x0215, 0x0217, 0x021F), InvalidRequestParametersError),
    0x0216: UsageLimitExceededError,  # insufficient credit
    0x021D: InvalidConfigError,  # SMS not enabled for the account
    0x0312: InvalidConfigError,  # message filtered because of its content (the template)
}
# Their `%1` variable is the recipient's number: left out of error messages.
_RECIPIENT_CODES = frozenset((0x0214, 0x0215, 0x0310))


class GatewayApiConfig(ConnectorConfig):
    endpoint: EndpointUrl = Field(
        default=DEFAULT_ENDPOINT,
        title="Endpoint",
        description=f"`{DEFAULT_ENDPOINT}`, or `{EU_ENDPOINT}` for an account on the EU platform.",
    )
    api_token: SecretStr = Field(
        alias="apiToken",
        min_length=1,
        title="API token",
        description="Dashboard > Settings > API Keys: the token of an API key.",
    )
    sender: str = Field(
        min_length=1,
        title="Sender",
        description="Shown as the sender: up to 11 letters and digits, or up to 15 digits.",
    )
    templates: ContentTemplates
    webhook_token: SecretStr | None = Field(
        default=None,
        alias="webhookToken",
        title="Webhook token",
        description="Dashboard > Settings > Webhooks: the authentication token of the webhook; "
        "checks the signed delivery reports. Without it, no reports are taken.",
    )


def mtsms_url(endpoint: str) -> str:
    """The endpoint as given, as Logto posts it; a bare host gets the `/rest/mtsms` path."""
    return endpoint if urlsplit(endpoint).path else endpoint + "/rest/mtsms"


def _code(body: dict[str, Any]) -> int | None:
    """The hex `code` as a number, so that `0x021d` and `0x021D` are the same code."""
    try:
        return int(str(body["code"]), 16)
    except (KeyError, ValueError):
        return None


class GatewayApiConnector(HttpConnector[GatewayApiConfig]):
    factory_id = "gatewayapi-sms"

    @property
    def reports_delivery(self) -> bool:
        """Reports are taken only when their JWT can be checked."""
        return self.config.webhook_token is not None

    def sms_text(self, message: SmsMessage) -> str:
        """The text sent: the template rendered, with the autofill lines (`RendersText`)."""
        return render_sms(self.config.templates, message)

    def build_request(self, message: SmsMessage) -> httpx.Request:
        text = self.sms_text(message)
        recipients = [{"msisdn": message.digits}]
        document: dict[str, Any] = {
            "sender": self.config.sender,
            "message": text,
            "recipients": recipients,
        }
        if message.status_callback and self.reports_delivery:
            document["callback_url"] = message.status_callback  # receipts.py reads the reports
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        auth = basic_auth(self.config.api_token.get_secret_value(), "")
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        url = mtsms_url(self.config.endpoint)
        return self.client.build_request("POST", url, content=body, headers=headers)

    def parse_response(self, response: httpx.Response) -> SendResult:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.is_success:
            ids = body["ids"]  # anything but `{"ids": [<id>, …]}` is an invalid response
            if not isinstance(ids, list) or not ids:
                raise ValueError("no message id")
            usage = body.get("usage")
            return SendResult(str(ids[0]), details={"usage": usage} if usage else {})
        raise self._error(response, body if isinstance(body, dict) else {})

    def _error(self, response: httpx.Response, body: dict[str, Any]) -> ConnectorError:
        """The class for GatewayAPI's hex `code`, or the kit's choice by HTTP status."""
        code, status = _code(body), response.status_code
        text = str(body["message"])[:300] if body.get("message") else None
        variables = body.get("variables")
        if text and isinstance(variables, list) and code not in _RECIPIENT_CODES:
            for number, value in reversed(list(enumerate(variables, 1))):
                text = text.replace(f"%{number}", str(value))
        error_class = _BY_CODE.get(code) if code is not None and status < 500 else None
        provider_code = body.get("code")
        if error_class is None or status == 429:
            error = self.fallback_error(
                response, provider_code=provider_code, provider_message=text
            )
        else:
            details = {
                "provider_code": provider_code,
                "provider_message": text,
                "http_status": status,
            }
            error = error_class(
                f"GatewayAPI refused the message: {text or provider_code}", **details
            )
        if body.get("incident_uuid"):
            error.details["incident_uuid"] = str(body["incident_uuid"])  # for GatewayAPI support
        return error


def _fake(request: httpx.Request) -> httpx.Response:
    """GatewayAPI's answer to an accepted message, in the shape of its documented example."""
    usage = {"countries": {"DE": 1}, "currency": "EUR", "total_cost": 0.0611}
    return httpx.Response(200, json={"ids": [421332671], "usage": usage})


FACTORY: ConnectorFactory[GatewayApiConfig] = ConnectorFactory(
    id="gatewayapi-sms",
    target="gatewayapi-sms",
    name="GatewayAPI",
    description="Send verification codes through GatewayAPI, on its global or its EU platform.",
    config_model=GatewayApiConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "endpoint": DEFAULT_ENDPOINT,
        "apiToken": "<api-token>",
        "sender": "ExampleSMS",
        "templates": default_content_templates(),
    },
    create=GatewayApiConnector,
    provider_fake=_fake,
    receipts=GatewayApiReceipts(),
)
