"""Helpers for the end-to-end flows: the texts, the phone that receives them, the end user.

The connector under test is the development outbox or Twilio pointed at a fake Twilio; either
way `Handset` reads what reached the phone, and `EndUser` drives the Experience API as a
browser would.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
from tests import local_http
from tests.e2e.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, Deployment, FakeTwilio

from phoneauth.connectors import mask_phone

PHONE = "+4915112345678"
MASKED_PHONE = "+4915*****5678"
NEW_PHONE = "+4915187654321"
THIRD_PHONE = "+4915199999999"
PUBLIC_URL = "https://phoneauth.example"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "another horse battery"
FACTORIES = {"outbox": "outbox-sms", "twilio": "twilio-short-message-service"}
USAGE_TYPES = (
    "Register",
    "SignIn",
    "ForgotPassword",
    "MfaVerification",
    "BindMfa",
    "UserPermissionValidation",
    "BindNewIdentifier",
    "Generic",
)
# One text per usage type, so the text that reached the phone names the template it came from;
# the invitation's also carries the acceptance page's link.
TEMPLATES = [
    {"usageType": usage, "content": f"[{usage}] Your phoneauth code is {{{{code}}}}."}
    for usage in USAGE_TYPES
] + [
    {
        "usageType": "OrganizationInvitation",
        "content": "[OrganizationInvitation] Your phoneauth code is {{code}}. {{link}}",
    }
]
TEXT = re.compile(r"\[(?P<usage>\w+)\] Your phoneauth code is (?P<code>\d{6})\.( (?P<link>\S+))?")

PHONE_PASSWORD_SIGN_UP = {"identifiers": ["phone"], "password": True, "verify": True}
PHONE_MFA = {"factors": ["PhoneVerificationCode"], "policy": "UserControlled"}


# --- where the SMS arrive ----------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One SMS as the phone shows it: the template it came from and the code in it."""

    to: str
    body: str

    @property
    def usage_type(self) -> str:
        return self._match()["usage"]

    @property
    def code(self) -> str:
        return self._match()["code"]

    @property
    def link(self) -> str | None:
        return self._match()["link"]

    def _match(self) -> re.Match[str]:
        found = TEXT.fullmatch(self.body)
        assert found is not None, self.body
        return found


@dataclass
class Handset:
    """The SMS connector under test and the phone its messages reach."""

    kind: str
    admin: httpx.AsyncClient
    twilio: FakeTwilio | None
    connector_id: str = ""

    @property
    def factory_id(self) -> str:
        return FACTORIES[self.kind]

    def config(self) -> dict[str, Any]:
        if self.twilio is None:
            return {"templates": TEMPLATES}
        return {
            "accountSID": ACCOUNT_SID,
            "authToken": AUTH_TOKEN,
            "fromMessagingServiceSID": SERVICE_SID,
            "templates": TEMPLATES,
            "endpoint": self.twilio.url,
        }

    async def texts(self, phone: str = PHONE) -> list[Text]:
        """Every SMS `phone` received, oldest first."""
        if self.twilio is not None:
            return [Text(sms.to, sms.body) for sms in self.twilio.messages if sms.to == phone]
        response = await self.admin.get("/api/outbox", params={"phone": phone})
        assert response.status_code == 200, response.text
        kept = list(reversed(response.json()))  # the outbox answers newest first
        for message in kept:
            assert message["to"] == phone
            assert message["code"] in message["text"]
        texts = [Text(message["to"], message["text"]) for message in kept]
        assert [text.usage_type for text in texts] == [m["usageType"] for m in kept]
        return texts

    async def latest(self, usage_type: str, phone: str = PHONE) -> Text:
        # Forgot-password codes are sent after the answer (so its timing tells nobody whether
        # the number has an account): wait for it, generously (a busy machine is slow).
        deadline = time.monotonic() + 60
        texts = await self.texts(phone)
        while (not texts or texts[-1].usage_type != usage_type) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            texts = await self.texts(phone)
        assert texts, f"no SMS to {phone}"
        assert texts[-1].usage_type == usage_type, texts[-1].body
        return texts[-1]

    async def message_logs(self, phone: str = PHONE) -> list[dict[str, Any]]:
        """The message log's entries for `phone`, oldest first; each went through this
        connector."""
        response = await self.admin.get("/api/message-logs", params={"phone": phone})
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = list(reversed(response.json()))
        for entry in entries:
            assert entry["status"] == "sent", entry
            assert (entry["connectorId"], entry["factoryId"]) == (
                self.connector_id,
                self.factory_id,
            )
            assert entry["phone"] == mask_phone(phone)
            assert entry["providerMessageId"]
        return entries

    async def assert_logged(self, *usage_types: str, phone: str = PHONE) -> None:
        """The texts to `phone`, its message-log entries and `usage_types` agree, message by
        message."""
        texts = await self.texts(phone)
        assert [text.usage_type for text in texts] == list(usage_types)
        entries = await self.message_logs(phone)
        assert [entry["usageType"] for entry in entries] == list(usage_types)
        if self.twilio is not None:
            assert [entry["providerMessageId"] for entry in entries] == [
                sms.sid for sms in self.twilio.messages if sms.to == phone
            ]
        log = (await self.admin.get("/api/message-logs")).text
        for text in texts:
            assert text.code not in log  # the log never keeps a code


def browser(deployment: Deployment) -> httpx.AsyncClient:
    """An end user's client on the real URL: no admin key, its own cookie jar."""
    return local_http.async_client(base_url=deployment.url, timeout=30)


# --- the end user's steps ----------------------------------------------------------------------


class EndUser:
    def __init__(self, client: httpx.AsyncClient, handset: Handset) -> None:
        self.client = client
        self.handset = handset

    async def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.put(f"/api/experience{path}", json=body)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(f"/api/experience{path}", json=body or {})

    async def start(self, event: str) -> None:
        started = await self.put("", {"interactionEvent": event})
        assert started.status_code == 204, started.text

    async def prove_phone(
        self, event: str, usage_type: str | None = None, phone: str = PHONE
    ) -> str:
        """Ask for a code, read it off the phone, verify it; the verified record's id."""
        sent = await self.post(
            "/verification/verification-code",
            {"identifier": {"type": "phone", "value": phone}, "interactionEvent": event},
        )
        assert sent.status_code == 200, sent.text
        verification_id = str(sent.json()["verificationId"])
        text = await self.handset.latest(usage_type or event, phone)
        verified = await self.post(
            "/verification/verification-code/verify",
            {
                "identifier": {"type": "phone", "value": phone},
                "verificationId": verification_id,
                "code": text.code,
            },
        )
        assert verified.status_code == 200, verified.text
        assert verified.json() == {"verificationId": verification_id}
        return verification_id

    async def identify(self, verification_id: str | None = None) -> httpx.Response:
        body = {} if verification_id is None else {"verificationId": verification_id}
        return await self.post("/identification", body)

    async def submit(self) -> httpx.Response:
        return await self.post("/submit")

    async def password(self, password: str) -> str:
        checked = await self.post(
            "/verification/password",
            {"identifier": {"type": "phone", "value": PHONE}, "password": password},
        )
        assert checked.status_code == 200, checked.text
        return str(checked.json()["verificationId"])

    async def signed_in(self, submitted: httpx.Response, phone: str = PHONE) -> dict[str, Any]:
        """A submit that opened a session: the token and the cookie both reach the account."""
        assert submitted.status_code == 200, submitted.text
        body: dict[str, Any] = submitted.json()
        assert {"redirectTo", "accessToken", "expiresAt"} <= set(body)
        assert "phoneauth_session" in self.client.cookies
        by_cookie = await self.client.get("/api/my-account")
        assert by_cookie.status_code == 200, by_cookie.text
        async with local_http.async_client(base_url=str(self.client.base_url), timeout=30) as fresh:
            by_token = await fresh.get(
                "/api/my-account", headers={"Authorization": f"Bearer {body['accessToken']}"}
            )
        assert by_token.status_code == 200, by_token.text
        account: dict[str, Any] = by_token.json()
        assert account["primaryPhone"] == phone
        assert by_cookie.json()["id"] == account["id"]
        return account


async def patch_experience(admin: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    saved = await admin.patch("/api/sign-in-exp", json=changes)
    assert saved.status_code == 200, saved.text
