"""Vonage (Nexmo) SMS API: `POST {endpoint}/sms/json`, a form body, HTTP Basic `apiKey:apiSecret`.

Vonage answers HTTP 200 even when it refuses a message: success is every `messages[i].status`
equal to `"0"`; any other status is an error, mapped below (providers.md §6.1, §10.5).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import Field, SecretStr

from phoneauth.connectors.base import SendResult, SmsMessage
from phoneauth.connectors.config import ConnectorConfig, ContentTemplates, EndpointUrl
from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidConfigError,
    InvalidRequestParametersError,
    RateLimitExceededError,
    UsageLimitExceededError,
)
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpConnector, basic_auth, response_json
from phoneauth.connectors.providers.vonage.receipts import VonageReceipts
from phoneauth.connectors.providers.vonage.signing import SignatureMethod
from phoneauth.connectors.segments import is_gsm7
from phoneauth.connectors.templates import default_content_templates, render_sms

DEFAULT_ENDPOINT = "https://rest.nexmo.com"

_STATUS_ERRORS: dict[str, tuple[type[ConnectorError], str]] = {
    "1": (RateLimitExceededError, "Vonage throttled the request"),
    "3": (InvalidRequestParametersError, "Vonage refused a parameter of the message"),
    "4": (AuthorizationFailedError, "Vonage refused the API key and secret"),
    "5": (ConnectorError, "Vonage failed internally"),
    "6": (InvalidRequestParametersError, "Vonage cannot route a message to this number"),
    "7": (InvalidRequestParametersError, "The recipient's number is barred"),
    "8": (AuthorizationFailedError, "The Vonage account is suspended"),
    "9": (UsageLimitExceededError, "The Vonage account's credit is exhausted"),
    "10": (RateLimitExceededError, "Too many simultaneous connections to Vonage"),
    "11": (InvalidConfigError, "The Vonage account is not enabled for the SMS API"),
    "12": (InvalidConfigError, "The message text is too long for Vonage"),
    "14": (AuthorizationFailedError, "Vonage could not verify the request's signature"),
    "15": (InvalidConfigError, "Vonage does not allow this sender (brandName) here"),
    "29": (InvalidConfigError, "Trial account: the number is not on Vonage's test numbers list"),
    "32": (InvalidConfigError, "Vonage refused the account's signing setup"),
    "33": (InvalidRequestParametersError, "The recipient's number is deactivated"),
}


class VonageConfig(ConnectorConfig):
    api_key: str = Field(
        alias="apiKey",
        min_length=1,
        title="API key",
        description="Shown at the top of the Vonage API dashboard, e.g. `abcd1234`.",
    )
    api_secret: SecretStr = Field(
        alias="apiSecret",
        min_length=1,
        title="API secret",
        description="Next to the API key in the dashboard (Settings lists every secret).",
    )
    brand_name: str = Field(
        alias="brandName",
        min_length=1,
        title="Sender (brand name)",
        description="Sent as `from`: an alphanumeric sender ID (≤ 11 characters) or your Vonage "
        "number in international format; the US and Canada require a number.",
    )
    templates: ContentTemplates
    endpoint: EndpointUrl | None = Field(
        default=None,
        title="Endpoint",
        description=f"Optional base URL replacing `{DEFAULT_ENDPOINT}` (proxy or local fake).",
    )
    signature_secret: SecretStr | None = Field(
        default=None,
        alias="signatureSecret",
        title="Signature secret",
        description="Dashboard > Settings > signature secret: checks the signed delivery "
        "receipts (ask Vonage support to sign webhooks). Without it, no receipts are taken.",
    )
    signature_method: SignatureMethod | None = Field(
        default=None,
        alias="signatureMethod",
        title="Signature method",
        description="As chosen next to the secret: `md5hash` (MD5 hash, Vonage's default, "
        "used when empty), `md5`, `sha1`, `sha256` or `sha512` (HMACs).",
    )


class VonageSmsConnector(HttpConnector[VonageConfig]):
    factory_id = "vonage-sms"

    @property
    def reports_delivery(self) -> bool:
        """Receipts are taken only when their signature can be checked."""
        return self.config.signature_secret is not None

    def sms_text(self, message: SmsMessage) -> str:
        """The text sent: the template rendered, with the autofill lines (`RendersText`)."""
        return render_sms(self.config.templates, message)

    def build_request(self, message: SmsMessage) -> httpx.Request:
        text = self.sms_text(message)
        sender = self.config.brand_name
        if sender.startswith("+") and sender[1:].isdigit():
            sender = sender[1:]  # Vonage wants numbers without `+`, as for `to`
        form = {"to": message.digits, "from": sender, "text": text}
        if not is_gsm7(text):  # anything outside GSM 03.38 (and its extension) needs unicode
            form["type"] = "unicode"
        if message.status_callback and self.reports_delivery:
            form["callback"] = message.status_callback  # this message's DLR URL (receipts.py)
        auth = basic_auth(self.config.api_key, self.config.api_secret.get_secret_value())
        return self.client.build_request(
            "POST",
            f"{self.config.endpoint or DEFAULT_ENDPOINT}/sms/json",
            data=form,
            headers={"Authorization": auth, "Accept": "application/json"},
        )

    def parse_response(self, response: httpx.Response) -> SendResult:
        if response.status_code != 200:
            raise self.fallback_error(response, provider_message=_problem(response))
        body = response_json(response)
        parts = body["messages"]
        if not isinstance(parts, list) or not parts:
            raise ValueError("no message in the answer")
        for part in parts:
            status = str(part["status"])
            if status != "0":
                raise self._status_error(response, status, part.get("error-text"))
        return SendResult(provider_message_id=str(parts[0]["message-id"]), details=_details(parts))

    def _status_error(self, response: httpx.Response, status: str, text: Any) -> ConnectorError:
        """The error a per-message `status` means; Vonage sends these with HTTP 200."""
        if status not in _STATUS_ERRORS:
            return self.fallback_error(response, provider_code=status, provider_message=text)
        error_class, summary = _STATUS_ERRORS[status]
        if status == "3" and re.search(r"\bfrom\b", str(text), re.IGNORECASE):
            error_class = InvalidConfigError  # the sender comes from the config, not the message
        suffix = f": {text}" if text else ""
        return error_class(
            f"{summary} (status {status}){suffix}",
            provider_code=status,
            provider_message=None if text is None else str(text),
            http_status=response.status_code,
        )


def _problem(response: httpx.Response) -> str | None:
    """The RFC 7807 `detail`/`title` Vonage sends with HTTP errors, if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    found = (body.get("detail") or body.get("title")) if isinstance(body, dict) else None
    return str(found) if found else None


def _details(parts: list[Any]) -> dict[str, Any]:
    """Balance, price and network as Vonage reports them; a long text has one entry per part."""
    details: dict[str, Any] = {"message-count": len(parts)}
    if len(parts) > 1:
        details["message-ids"] = [str(part["message-id"]) for part in parts]
        details["message-prices"] = [part.get("message-price") for part in parts]
    elif "message-price" in parts[0]:
        details["message-price"] = parts[0]["message-price"]
    for key, part in (("remaining-balance", parts[-1]), ("network", parts[0])):
        if key in part:
            details[key] = part[key]
    return details


def _fake(request: httpx.Request) -> httpx.Response:
    to = httpx.QueryParams(request.content.decode()).get("to")
    part = {"to": to, "message-id": "0A0000001234ABCD", "status": "0"}
    part |= {"remaining-balance": "15.53590000", "message-price": "0.03330000", "network": "26202"}
    return httpx.Response(200, json={"message-count": "1", "messages": [part]})


FACTORY: ConnectorFactory[VonageConfig] = ConnectorFactory(
    id="vonage-sms",
    target="vonage-sms",
    name="Vonage",
    description="Send codes with the Vonage (Nexmo) SMS API, in any language and script.",
    config_model=VonageConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "apiKey": "<api-key>",
        "apiSecret": "<api-secret>",
        "brandName": "Acme",
        "templates": default_content_templates(),
    },
    create=VonageSmsConnector,
    provider_fake=_fake,
    receipts=VonageReceipts(),
)
