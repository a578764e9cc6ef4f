"""SMS Aero (smsaero.ru, API v2): one JSON POST to `/sms/send` per message, HTTP Basic auth.

Same wire format as Logto's `connector-smsaero`; unlike Logto, a `success: false` answer (which SMS
Aero may send with HTTP 200) fails the send, and a missing usage type falls back to Generic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, Field, SecretStr

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
from phoneauth.connectors.http import HttpConnector, basic_auth
from phoneauth.connectors.providers.smsaero import status
from phoneauth.connectors.receipts import DeliveryReport, PendingMessage
from phoneauth.connectors.templates import (
    default_content_templates,
    render_sms,
)

DEFAULT_ENDPOINT = "https://gate.smsaero.ru/v2"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_KEPT = {"status": "status", "extendStatus": "extend_status", "channel": "channel", "cost": "cost"}

# SMS Aero answers with a free-text `message` and no error code, so the class is chosen from the
# words it uses (English and Russian); anything unmatched goes to the generic fallback.
_MATCHERS: tuple[tuple[type[ConnectorError], tuple[str, ...]], ...] = (
    (RateLimitExceededError, ("too many", "rate limit", "слишком много")),
    (AuthorizationFailedError, ("credential", "unauthori", "authenticat", "авториз")),
    (UsageLimitExceededError, ("no credits", "balance", "money", "funds", "баланс", "средств")),
    (InvalidConfigError, ("sign", "sender", "подпис", "отправител")),
    (InvalidRequestParametersError, ("number", "phone", "номер", "телефон")),
)


def _check_email(value: str) -> str:
    """A shape check only: the SDK's DNS lookup would tie config validation to the network."""
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an email address, e.g. ops@example.com")
    return value


class SmsAeroConfig(ConnectorConfig):
    email: Annotated[str, AfterValidator(_check_email)] = Field(
        title="Email",
        description="The email address you sign in to smsaero.ru with; it is the API login.",
    )
    api_key: SecretStr = Field(
        alias="apiKey",
        min_length=1,
        title="API key",
        description="Cabinet > Settings > API and SMPP: copy or generate the API key.",
    )
    sender_name: str = Field(
        alias="senderName",
        min_length=1,
        title="Sender name",
        description="An approved sender name (signature), or `SMS Aero` for the free shared one.",
    )
    templates: ContentTemplates
    endpoint: EndpointUrl | None = Field(
        default=None,
        title="API base URL",
        description=f"Defaults to `{DEFAULT_ENDPOINT}`; `https://gate.smsaero.org/v2` and "
        "`https://gate.smsaero.net/v2` are SMS Aero's backup gates.",
    )


def send_url(endpoint: str | None, action: str = "send") -> str:
    """`{endpoint}/sms/send`; a bare host gets the `/v2` prefix as the official SDK adds it."""
    base = endpoint or DEFAULT_ENDPOINT
    if not urlsplit(base).path:
        base += "/v2"
    return f"{base}/sms/{action}"


class SmsAeroConnector(HttpConnector[SmsAeroConfig]):
    factory_id = "smsaero-short-message-service"
    reports_delivery = True  # polled: `POST /v2/sms/status` per message

    async def poll_delivery(self, messages: Sequence[PendingMessage]) -> list[DeliveryReport]:
        """Each message's status from `/sms/status` (`{"id": <int>}`), as the official SDK asks."""
        found = []
        auth = basic_auth(self.config.email, self.config.api_key.get_secret_value())
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        for message in messages:
            message_id = message.provider_message_id
            if not message_id.isdigit():
                continue  # not an SMS Aero id
            body = json.dumps({"id": int(message_id)}).encode()
            url = send_url(self.config.endpoint, "status")
            request = self.client.build_request("POST", url, content=body, headers=headers)
            response = await self._exchange(request)
            report = self._status(response, message_id)
            if report is not None:
                found.append(report)
        return found

    def _status(self, response: httpx.Response, message_id: str) -> DeliveryReport | None:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("success") is not True:
            if isinstance(body, dict):
                raise self._error(response, body)
            raise self.fallback_error(response)
        return status.report(message_id, body.get("data"))

    def sms_text(self, message: SmsMessage) -> str:
        """The text sent: the template rendered, with the autofill lines (`RendersText`)."""
        return render_sms(self.config.templates, message)

    def build_request(self, message: SmsMessage) -> httpx.Request:
        text = self.sms_text(message)
        document = {"number": message.digits, "sign": self.config.sender_name, "text": text}
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        auth = basic_auth(self.config.email, self.config.api_key.get_secret_value())
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        url = send_url(self.config.endpoint)
        return self.client.build_request("POST", url, content=body, headers=headers)

    def parse_response(self, response: httpx.Response) -> SendResult:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if response.is_success:
                raise ValueError("not a JSON object")  # the kit makes it InvalidResponseError
            raise self.fallback_error(response)
        if response.is_success and body.get("success") is True:
            data = body["data"]
            if data.get("id") is None:
                raise ValueError("accepted without an id")
            # `data` echoes the text, verification code included: keep only the delivery facts.
            details = {ours: data[key] for key, ours in _KEPT.items() if data.get(key) is not None}
            return SendResult(provider_message_id=str(data["id"]), details=details)
        raise self._error(response, body)

    def _error(self, response: httpx.Response, body: dict[str, Any]) -> ConnectorError:
        """The most specific error for a refusal: by HTTP status first, then by SMS Aero's words."""
        # v2 sends `{"success": false, "message": …}`; the v1 shapes `{"result": "no credits"}` and
        # `{"result": "reject", "reason": …}` are still mapped by the official SDK.
        code = body.get("result") if isinstance(body.get("result"), str) else None
        said = body.get("message") or body.get("reason")
        text = str(said)[:300] if said else None
        status = response.status_code
        if status in (401, 429) or status >= 500:
            return self.fallback_error(response, provider_code=code, provider_message=text)
        # A validation failure may list the offending fields in `errors`: their names count too.
        fields = body["errors"] if isinstance(body.get("errors"), dict) else {}
        words = " ".join([code or "", text or "", *map(str, fields)]).lower()
        for error, needles in _MATCHERS:
            if any(needle in words for needle in needles):
                details = {"provider_code": code, "provider_message": text, "http_status": status}
                reason = text or code or ", ".join(map(str, fields))
                return error(f"SMS Aero refused the message: {reason}", **details)
        return self.fallback_error(response, provider_code=code, provider_message=text)


def _fake(request: httpx.Request) -> httpx.Response:
    """SMS Aero's answer to an accepted message, as its official SDK documents it."""
    sent = json.loads(request.content)
    data = {"id": 12345, "from": sent["sign"], "number": sent["number"], "text": sent["text"]}
    data |= {"status": 8, "extendStatus": "moderation", "channel": "FREE SIGN", "cost": 5.49}
    data |= {"dateCreate": 1719119523, "dateSend": 1719119523}
    return httpx.Response(200, json={"success": True, "data": data, "message": None})


FACTORY: ConnectorFactory[SmsAeroConfig] = ConnectorFactory(
    id="smsaero-short-message-service",
    target="smsaero-sms",
    name="SMS Aero",
    description="Send verification codes through SMS Aero (smsaero.ru), Russia and beyond.",
    config_model=SmsAeroConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "email": "ops@example.com",
        "apiKey": "<api-key>",
        "senderName": "SMS Aero",
        "templates": default_content_templates(),
    },
    create=SmsAeroConnector,
    provider_fake=_fake,
    polls_delivery=True,
)
