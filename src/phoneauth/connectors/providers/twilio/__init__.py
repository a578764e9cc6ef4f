"""Twilio Programmable Messaging: one form POST to the Messages API per code.

Wire format as Logto's `connector-twilio-sms` sends it: Basic `accountSID:authToken`, form fields
`To` (E.164 with `+`), `MessagingServiceSid`, `Body`, `RiskCheck`. Success is HTTP 201 with the
Message resource; errors are 4xx/5xx with Twilio's JSON `{code, message, more_info, status}`.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl, quote

import httpx
from pydantic import Field, SecretStr, field_validator

from phoneauth.connectors.base import SendResult, SmsMessage
from phoneauth.connectors.config import ConnectorConfig, ContentTemplates, EndpointUrl
from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidConfigError,
    InvalidRequestParametersError,
    InvalidResponseError,
    RateLimitExceededError,
)
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import HttpConnector, basic_auth
from phoneauth.connectors.providers.twilio.receipts import TwilioReceipts
from phoneauth.connectors.templates import default_content_templates, render_sms

DEFAULT_ENDPOINT = "https://api.twilio.com"
# Logto 1.5's `host` check: a Twilio API hostname only (api.twilio.com, api.dublin.ie1.twilio.com).
_HOST = re.compile(r"api(?:\.[\da-z](?:[\da-z-]{0,61}[\da-z])?)*\.twilio\.com", re.IGNORECASE)

# Twilio error code → our class; 5xx, 401 and 429 without a listed code go to `fallback_error`.
ERROR_CLASSES: dict[int, type[ConnectorError]] = {
    20003: AuthorizationFailedError,
    20429: RateLimitExceededError,
    **dict.fromkeys((21211, 21612, 21614, 21610), InvalidRequestParametersError),
    **dict.fromkeys((21608, 21408, 21606, 21703, 21705), InvalidConfigError),
}


class TwilioConfig(ConnectorConfig):
    """Logto's keys unchanged, plus `endpoint` for regional hosts and local fakes."""

    account_sid: str = Field(
        alias="accountSID",
        min_length=1,
        title="Account SID",
        description="Starts with `AC`; Twilio Console home page, under Account Info.",
    )
    auth_token: SecretStr = Field(
        alias="authToken",
        min_length=1,
        title="Auth Token",
        description="Shown next to the Account SID in Account Info; click to reveal it.",
    )
    from_messaging_service_sid: str = Field(
        alias="fromMessagingServiceSID",
        min_length=1,
        title="Messaging Service SID",
        description="Starts with `MG`; Messaging > Services, the service whose numbers send.",
    )
    disable_risk_check: bool = Field(
        default=False,
        alias="disableRiskCheck",
        title="Disable risk check",
        description="Send `RiskCheck=disable` to skip Twilio's fraud screening of each message.",
    )
    templates: ContentTemplates = Field(
        title="SMS templates",
        description="One text per usage type, `{{code}}` for the code; Generic is the fallback.",
    )
    host: str | None = Field(
        default=None,
        title="API host (Logto)",
        description="Logto's hostname-only override, e.g. `api.dublin.ie1.twilio.com`; "
        "`endpoint` wins when both are set.",
    )
    endpoint: EndpointUrl | None = Field(
        default=None,
        title="API endpoint",
        description="Base URL; default https://api.twilio.com, Ireland (IE1) "
        "https://api.dublin.ie1.twilio.com.",
    )

    @field_validator("host")
    @classmethod
    def _twilio_host(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 253 or not _HOST.fullmatch(value)):
            raise ValueError("must be a Twilio API hostname such as api.dublin.ie1.twilio.com")
        return None if value is None else value.lower()

    @property
    def base_url(self) -> str:
        """Where the Messages API lives: `endpoint`, else Logto's `host`, else the US1 default."""
        if self.endpoint is not None:
            return self.endpoint
        return f"https://{self.host}" if self.host else DEFAULT_ENDPOINT


class TwilioConnector(HttpConnector[TwilioConfig]):
    """One Messages API call per code; Twilio picks the sender from the service's pool."""

    factory_id = "twilio-short-message-service"
    reports_delivery = True  # status callbacks signed with the Auth Token

    def sms_text(self, message: SmsMessage) -> str:
        """The text sent: the template rendered, with the autofill lines (`RendersText`)."""
        return render_sms(self.config.templates, message)

    def build_request(self, message: SmsMessage) -> httpx.Request:
        config = self.config
        url = f"{config.base_url}/2010-04-01/Accounts/{quote(config.account_sid, safe='')}"
        form = {  # Logto's fields, in Logto's order
            "To": message.to,
            "MessagingServiceSid": config.from_messaging_service_sid,
            "Body": self.sms_text(message),
            "RiskCheck": "disable" if config.disable_risk_check else "enable",
        }
        if message.status_callback:  # Twilio posts every status change there (receipts.py)
            form["StatusCallback"] = message.status_callback
        headers = {
            "Authorization": basic_auth(config.account_sid, config.auth_token.get_secret_value()),
            "Accept": "application/json",
        }
        return self.client.build_request("POST", f"{url}/Messages.json", data=form, headers=headers)

    def parse_response(self, response: httpx.Response) -> SendResult:
        try:
            body = response.json()
        except ValueError:  # an HTML error page from a proxy or Twilio's edge
            body = None
        body = body if isinstance(body, dict) else {}
        if response.is_success and body.get("sid"):
            status = body.get("status")
            return SendResult(provider_message_id=str(body["sid"]), details={"status": status})
        code, text = body.get("code"), body.get("message")
        details = {
            k: v for k, v in (("provider_code", code), ("provider_message", text)) if v is not None
        }
        error_class = ERROR_CLASSES.get(code) if isinstance(code, int) else None
        error: ConnectorError
        if error_class is not None and response.status_code < 500:  # a 5xx is Twilio's failure
            error = error_class(
                f"Twilio refused the message (error {code}): {text}",
                **details,
                http_status=response.status_code,
            )
        elif response.is_success:  # a 2xx without a SID never happens when Twilio took it
            error = InvalidResponseError(
                "Twilio's answer has no message SID.", **details, http_status=response.status_code
            )
        else:
            error = self.fallback_error(response, **details)
        if body.get("more_info"):
            error.details["more_info"] = body["more_info"]
        raise error


def _fake(request: httpx.Request) -> httpx.Response:
    """Twilio's 201 for a Messaging Service send: `accepted`, the sender is picked later."""
    form = dict(parse_qsl(request.content.decode()))
    account_sid, sid = request.url.path.split("/")[3], "SM" + uuid.uuid4().hex
    resource = {"sid": sid, "account_sid": account_sid, "status": "accepted", "from": None}
    resource |= {"to": form.get("To"), "messaging_service_sid": form.get("MessagingServiceSid")}
    resource |= {"body": form.get("Body"), "num_segments": "0", "direction": "outbound-api"}
    resource |= {"error_code": None, "error_message": None, "api_version": "2010-04-01"}
    return httpx.Response(201, json=resource)


FACTORY: ConnectorFactory[TwilioConfig] = ConnectorFactory(
    id="twilio-short-message-service",
    target="twilio-sms",
    name="Twilio",
    description="Send codes with Twilio Programmable Messaging through a Messaging Service.",
    config_model=TwilioConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={
        "accountSID": "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "authToken": "<auth-token>",
        "fromMessagingServiceSID": "MGxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "disableRiskCheck": False,
        "templates": default_content_templates(),
    },
    create=TwilioConnector,
    provider_fake=_fake,
    receipts=TwilioReceipts(),
)
