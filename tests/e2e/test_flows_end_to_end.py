"""Every end-user flow end to end over real HTTP: phoneauth under uvicorn, SMS through a connector.

Each flow runs twice: with the development outbox (codes read from `GET /api/outbox` with the
admin key, as a phone would show them) and with the Twilio connector pointed at a fake Twilio on
its own socket (codes read from the SMS bodies the fake received). The end user is an
`httpx.AsyncClient` without an admin key that keeps its cookies, as a browser does. Each test
runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SERVICE_SID,
    Deployment,
    FakeTwilio,
)
from tests.servers import serve_in_thread

PHONE = "+4915112345678"
MASKED_PHONE = "+4915*****5678"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "another horse battery"
FACTORIES = {"outbox": "outbox-sms", "twilio": "twilio-short-message-service"}
USAGE_TYPES = (
    "Register",
    "SignIn",
    "ForgotPassword",
    "MfaVerification",
    "BindMfa",
    "OrganizationInvitation",
    "Generic",
)
# One text per usage type, so the text that reached the phone names the template it came from.
TEMPLATES = [
    {"usageType": usage, "content": f"[{usage}] Your phoneauth code is {{{{code}}}}."}
    for usage in USAGE_TYPES
]
TEXT = re.compile(r"\[(?P<usage>\w+)\] Your phoneauth code is (?P<code>\d{6})\.")

PHONE_CODE_SIGN_IN = {
    "identifier": "phone",
    "password": False,
    "verificationCode": True,
    "isPasswordPrimary": False,
}
PHONE_PASSWORD_SIGN_IN = {
    "identifier": "phone",
    "password": True,
    "verificationCode": False,
    "isPasswordPrimary": True,
}
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
        texts = await self.texts(phone)
        assert texts, f"no SMS to {phone}"
        assert texts[-1].usage_type == usage_type, texts[-1].body
        return texts[-1]

    async def message_logs(self) -> list[dict[str, Any]]:
        """The message log, oldest first; every entry went through this connector."""
        response = await self.admin.get("/api/message-logs")
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = list(reversed(response.json()))
        for entry in entries:
            assert entry["status"] == "sent", entry
            assert (entry["connectorId"], entry["factoryId"]) == (
                self.connector_id,
                self.factory_id,
            )
            assert entry["phone"] == MASKED_PHONE
            assert entry["providerMessageId"]
        return entries

    async def assert_logged(self, *usage_types: str) -> None:
        """The texts, the message log and `usage_types` agree, message by message."""
        texts = await self.texts()
        assert [text.usage_type for text in texts] == list(usage_types)
        entries = await self.message_logs()
        assert [entry["usageType"] for entry in entries] == list(usage_types)
        if self.twilio is not None:
            assert [entry["providerMessageId"] for entry in entries] == [
                sms.sid for sms in self.twilio.messages
            ]
        log = (await self.admin.get("/api/message-logs")).text
        for text in texts:
            assert text.code not in log  # the log never keeps a code


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
async def admin(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=deployment.url, headers=deployment.auth, timeout=30
    ) as client:
        yield client


@pytest.fixture(params=["outbox", "twilio"])
def provider(request: pytest.FixtureRequest) -> Iterator[FakeTwilio | None]:
    if request.param == "outbox":
        yield None
        return
    fake = FakeTwilio()
    with serve_in_thread(fake.asgi()) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def handset(admin: httpx.AsyncClient, provider: FakeTwilio | None) -> Handset:
    """The connector, created over the Management API as a user would."""
    handset = Handset("outbox" if provider is None else "twilio", admin, provider)
    body = {"connectorId": handset.factory_id, "config": handset.config()}
    created = await admin.post("/api/connectors", json=body)
    assert created.status_code == 200, created.text
    handset.connector_id = created.json()["id"]
    return handset


def browser(deployment: Deployment) -> httpx.AsyncClient:
    """An end user's client on the real URL: no admin key, its own cookie jar."""
    return httpx.AsyncClient(base_url=deployment.url, timeout=30)


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

    async def prove_phone(self, event: str, usage_type: str | None = None) -> str:
        """Ask for a code, read it off the phone, verify it; the verified record's id."""
        sent = await self.post(
            "/verification/verification-code",
            {"identifier": {"type": "phone", "value": PHONE}, "interactionEvent": event},
        )
        assert sent.status_code == 200, sent.text
        verification_id = str(sent.json()["verificationId"])
        text = await self.handset.latest(usage_type or event)
        verified = await self.post(
            "/verification/verification-code/verify",
            {
                "identifier": {"type": "phone", "value": PHONE},
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

    async def signed_in(self, submitted: httpx.Response) -> dict[str, Any]:
        """A submit that opened a session: the token and the cookie both reach the account."""
        assert submitted.status_code == 200, submitted.text
        body: dict[str, Any] = submitted.json()
        assert {"redirectTo", "accessToken", "expiresAt"} <= set(body)
        assert "phoneauth_session" in self.client.cookies
        by_cookie = await self.client.get("/api/my-account")
        assert by_cookie.status_code == 200, by_cookie.text
        async with httpx.AsyncClient(base_url=str(self.client.base_url)) as fresh:
            by_token = await fresh.get(
                "/api/my-account", headers={"Authorization": f"Bearer {body['accessToken']}"}
            )
        assert by_token.status_code == 200, by_token.text
        account: dict[str, Any] = by_token.json()
        assert account["primaryPhone"] == PHONE
        assert by_cookie.json()["id"] == account["id"]
        return account


async def patch_experience(admin: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    saved = await admin.patch("/api/sign-in-exp", json=changes)
    assert saved.status_code == 200, saved.text


# --- the flows ---------------------------------------------------------------------------------


async def test_register_then_sign_in_with_phone_and_code(
    deployment: Deployment, handset: Handset
) -> None:
    async with browser(deployment) as client:
        user = EndUser(client, handset)
        await user.start("Register")
        created = await user.identify(await user.prove_phone("Register"))
        assert created.status_code == 201, created.text
        registered = await user.signed_in(await user.submit())

    async with browser(deployment) as client:  # another device, no cookies
        user = EndUser(client, handset)
        await user.start("SignIn")
        identified = await user.identify(await user.prove_phone("SignIn"))
        assert identified.status_code == 204, identified.text
        again = await user.signed_in(await user.submit())
    assert again["id"] == registered["id"]
    await handset.assert_logged("Register", "SignIn")


async def test_forgot_password_then_sign_in_with_the_new_one(
    deployment: Deployment, admin: httpx.AsyncClient, handset: Handset
) -> None:
    await patch_experience(
        admin,
        {
            "signUp": PHONE_PASSWORD_SIGN_UP,
            "signIn": {"methods": [PHONE_PASSWORD_SIGN_IN, PHONE_CODE_SIGN_IN]},
            "forgotPasswordMethods": ["PhoneVerificationCode"],
        },
    )
    async with browser(deployment) as client:
        user = EndUser(client, handset)
        await user.start("Register")
        registered_with = await user.prove_phone("Register")
        assert (await user.put("/profile/password", {"password": PASSWORD})).status_code == 204
        assert (await user.identify(registered_with)).status_code == 201
        await user.signed_in(await user.submit())

    async with browser(deployment) as client:
        user = EndUser(client, handset)
        await user.start("ForgotPassword")
        assert (await user.identify(await user.prove_phone("ForgotPassword"))).status_code == 204
        reset = await user.put("/profile/password", {"password": NEW_PASSWORD})
        assert reset.status_code == 204, reset.text
        done = await user.submit()
        assert done.status_code == 204, done.text
        assert "phoneauth_session" not in client.cookies  # a reset opens no session

    async with browser(deployment) as client:
        user = EndUser(client, handset)
        await user.start("SignIn")
        old = await user.post(
            "/verification/password",
            {"identifier": {"type": "phone", "value": PHONE}, "password": PASSWORD},
        )
        assert old.json()["code"] == "session.invalid_credentials"
        identified = await user.identify(await user.password(NEW_PASSWORD))
        assert identified.status_code == 204, identified.text
        await user.signed_in(await user.submit())
    await handset.assert_logged("Register", "ForgotPassword")


async def test_sms_mfa_is_bound_then_required_at_sign_in(
    deployment: Deployment, admin: httpx.AsyncClient, handset: Handset
) -> None:
    await patch_experience(
        admin,
        {
            "signUp": PHONE_PASSWORD_SIGN_UP,
            "signIn": {"methods": [PHONE_PASSWORD_SIGN_IN]},
            "mfa": PHONE_MFA,
        },
    )
    async with browser(deployment) as client:
        user = EndUser(client, handset)
        await user.start("Register")
        registered_with = await user.prove_phone("Register")
        assert (await user.put("/profile/password", {"password": PASSWORD})).status_code == 204
        assert (await user.identify(registered_with)).status_code == 201
        # Phone is a sign-up identifier: the binding code uses the event's template, as in Logto.
        bind_with = await user.prove_phone("Register")
        bound = await user.post(
            "/profile/mfa", {"type": "PhoneVerificationCode", "verificationId": bind_with}
        )
        assert bound.status_code == 204, bound.text
        await user.signed_in(await user.submit())

    async with browser(deployment) as client:
        user = EndUser(client, handset)
        await user.start("SignIn")
        assert (await user.identify(await user.password(PASSWORD))).status_code == 204
        required = await user.submit()
        assert required.status_code == 403, required.text
        assert required.json()["code"] == "session.mfa.require_mfa_verification"
        assert required.json()["details"] == {
            "availableFactors": ["PhoneVerificationCode"],
            "maskedIdentifiers": {"PhoneVerificationCode": MASKED_PHONE},
        }
        sent = await user.post("/verification/mfa-verification-code", {"identifierType": "phone"})
        assert sent.status_code == 200, sent.text
        verification_id = sent.json()["verificationId"]
        text = await handset.latest("MfaVerification")
        verified = await user.post(
            "/verification/mfa-verification-code/verify",
            {"verificationId": verification_id, "code": text.code, "identifierType": "phone"},
        )
        assert verified.json() == {"verificationId": verification_id}
        await user.signed_in(await user.submit())
    await handset.assert_logged("Register", "Register", "MfaVerification")


async def test_an_organization_invitation_is_accepted_with_the_texted_code(
    deployment: Deployment, admin: httpx.AsyncClient, handset: Handset
) -> None:
    created = await admin.post("/api/organizations", json={"name": "Acme"})
    assert created.status_code == 201, created.text
    organization = created.json()["id"]
    invited = await admin.post(
        "/api/organization-invitations", json={"organizationId": organization, "invitee": PHONE}
    )
    assert invited.status_code == 201, invited.text
    invitation = invited.json()
    assert invitation["status"] == "Pending"
    text = await handset.latest("OrganizationInvitation")

    async with browser(deployment) as client:
        accepted = await client.post(
            f"/api/organization-invitations/{invitation['id']}/accept", json={"code": text.code}
        )
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert body["organizationId"] == organization
        assert "phoneauth_session" in client.cookies
        account = await client.get(
            "/api/my-account", headers={"Authorization": f"Bearer {body['accessToken']}"}
        )
        assert account.json()["primaryPhone"] == PHONE
        assert account.json()["id"] == body["userId"]

    members = await admin.get(f"/api/organizations/{organization}/users")
    assert [member["id"] for member in members.json()] == [body["userId"]]
    state = (await admin.get(f"/api/organization-invitations/{invitation['id']}")).json()
    assert (state["status"], state["acceptedUserId"]) == ("Accepted", body["userId"])
    await handset.assert_logged("OrganizationInvitation")
