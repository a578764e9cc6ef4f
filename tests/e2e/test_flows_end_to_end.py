"""Every end-user flow end to end over real HTTP: phoneauth under uvicorn, SMS through a connector.

Each flow runs twice: with the development outbox (codes read from `GET /api/outbox` with the
admin key, as a phone would show them) and with the Twilio connector pointed at a fake Twilio on
its own socket (codes read from the SMS bodies the fake received). The end user is an
`httpx.AsyncClient` without an admin key that keeps its cookies, as a browser does. Each test
runs on SQLite and on PostgreSQL. The helpers are in `flows_support`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from tests import local_http
from tests.domain.codes_support import Clock
from tests.e2e.conftest import Deployment, FakeTwilio
from tests.e2e.flows_support import (
    MASKED_PHONE,
    NEW_PASSWORD,
    NEW_PHONE,
    PASSWORD,
    PHONE,
    PHONE_MFA,
    PHONE_PASSWORD_SIGN_UP,
    PUBLIC_URL,
    THIRD_PHONE,
    EndUser,
    Handset,
    browser,
    patch_experience,
)
from tests.servers import serve_in_thread
from tests.web.experience.support import PHONE_CODE_SIGN_IN, PHONE_PASSWORD_SIGN_IN

from phoneauth.settings import Settings

# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings) -> Settings:
    """Links in SMS start with the public URL; the server itself listens on a random port."""
    return module_settings.model_copy(update={"public_url": PUBLIC_URL})


@pytest.fixture
async def admin(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
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
    clock = Clock()
    deployment.services.codes.clock = clock  # the running app's codes engine reads this clock
    created = await admin.post("/api/organizations", json={"name": "Acme"})
    assert created.status_code == 201, created.text
    organization = created.json()["id"]
    invited = await admin.post(
        "/api/organization-invitations", json={"organizationId": organization, "invitee": PHONE}
    )
    assert invited.status_code == 201, invited.text
    invitation = invited.json()
    assert invitation["status"] == "Pending"
    first = await handset.latest("OrganizationInvitation")
    # The SMS names the page to type the code on, at the public URL.
    page = f"/invitations/{invitation['id']}"
    assert first.link == PUBLIC_URL + page

    async with browser(deployment) as client:
        opened = await client.get(page)
        assert opened.status_code == 200
        assert "Join Acme" in opened.text
        # Opened too late, the code has expired: the invitee asks for a new one.
        clock.advance(601)
        resent = await client.post(f"/api/organization-invitations/{invitation['id']}/resend")
        assert resent.status_code == 204, resent.text
        text = await handset.latest("OrganizationInvitation")
        assert text.link == first.link
        if text.code != first.code:
            stale = await client.post(
                f"/api/organization-invitations/{invitation['id']}/accept",
                json={"code": first.code},
            )
            assert stale.json()["code"] == "verification_code.code_mismatch"
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
    await handset.assert_logged("OrganizationInvitation", "OrganizationInvitation")


async def test_a_phone_is_bound_during_an_interaction_unless_someone_owns_it(
    deployment: Deployment, admin: httpx.AsyncClient, handset: Handset
) -> None:
    """Logto's flow D: an account made without a phone binds one before it is finished; a
    number another account owns is `user.phone_already_in_use`."""
    await patch_experience(
        admin,
        {
            "signUp": {"identifiers": [], "password": True, "verify": True},
            "signIn": {"methods": [PHONE_PASSWORD_SIGN_IN]},
        },
    )

    async def register_without_phone(user: EndUser) -> None:
        await user.start("Register")
        assert (await user.put("/profile/password", {"password": PASSWORD})).status_code == 204
        created = await user.identify()
        assert created.status_code == 201, created.text

    async def bind(user: EndUser, verification_id: str) -> httpx.Response:
        return await user.post("/profile", {"type": "phone", "verificationId": verification_id})

    async with browser(deployment) as client:
        owner = EndUser(client, handset)
        await register_without_phone(owner)
        # Identified, and phone is no sign-up identifier: Logto sends the BindMfa template.
        bound = await bind(owner, await owner.prove_phone("Register", "BindMfa"))
        assert bound.status_code == 204, bound.text
        registered = await owner.signed_in(await owner.submit())

    async with browser(deployment) as client:
        latecomer = EndUser(client, handset)
        await register_without_phone(latecomer)
        taken = await bind(latecomer, await latecomer.prove_phone("Register", "BindMfa"))
        assert taken.status_code == 422, taken.text
        assert taken.json()["code"] == "user.phone_already_in_use"
        own = await latecomer.prove_phone("Register", "BindMfa", phone=NEW_PHONE)
        assert (await bind(latecomer, own)).status_code == 204
        other = await latecomer.signed_in(await latecomer.submit(), phone=NEW_PHONE)
    assert other["id"] != registered["id"]

    async with browser(deployment) as client:  # the bound phone now signs its owner in
        user = EndUser(client, handset)
        await user.start("SignIn")
        assert (await user.identify(await user.password(PASSWORD))).status_code == 204
        again = await user.signed_in(await user.submit())
    assert again["id"] == registered["id"]
    await handset.assert_logged("BindMfa", "BindMfa")
    await handset.assert_logged("BindMfa", phone=NEW_PHONE)


async def test_the_account_api_changes_the_primary_phone_of_a_signed_in_user(
    deployment: Deployment, admin: httpx.AsyncClient, handset: Handset
) -> None:
    """Logto's flow F over a real session cookie: prove the own phone, prove the new one, then
    swap them; a number another account owns is refused, and so is removing the phone that
    is the tenant's sign-up identifier."""
    # Logto's account center starts disabled: let end users change their phone.
    center = {"enabled": True, "fields": {"phone": "Edit"}}
    assert (await admin.patch("/api/account-center", json=center)).status_code == 200
    async with browser(deployment) as client:
        someone = EndUser(client, handset)
        await someone.start("Register")
        proven_third = await someone.prove_phone("Register", phone=THIRD_PHONE)
        assert (await someone.identify(proven_third)).status_code == 201
        await someone.signed_in(await someone.submit(), phone=THIRD_PHONE)

    async with browser(deployment) as client:
        user = EndUser(client, handset)
        await user.start("Register")
        assert (await user.identify(await user.prove_phone("Register"))).status_code == 201
        registered = await user.signed_in(await user.submit())
        assert "authorization" not in client.headers  # the cookie alone from here on

        async def proven(phone: str, usage_type: str) -> str:
            sent = await client.post(
                "/api/verifications/verification-code",
                json={"identifier": {"type": "phone", "value": phone}},
            )
            assert sent.status_code == 201, sent.text
            record_id = str(sent.json()["verificationRecordId"])
            text = await handset.latest(usage_type, phone)
            verified = await client.post(
                "/api/verifications/verification-code/verify",
                json={
                    "identifier": {"type": "phone", "value": phone},
                    "verificationId": record_id,
                    "code": text.code,
                },
            )
            assert verified.status_code == 200, verified.text
            assert verified.json() == {"verificationRecordId": record_id}
            return record_id

        identity = await proven(PHONE, "UserPermissionValidation")
        new_number = await proven(NEW_PHONE, "BindNewIdentifier")
        change = {"phone": NEW_PHONE, "newIdentifierVerificationRecordId": new_number}
        unverified = await client.post("/api/my-account/primary-phone", json=change)
        assert unverified.status_code == 401, unverified.text
        assert unverified.json()["code"] == "verification_record.permission_denied"
        fresh = {"logto-verification-id": identity}

        taken = {
            "phone": THIRD_PHONE,
            "newIdentifierVerificationRecordId": await proven(THIRD_PHONE, "BindNewIdentifier"),
        }
        refused = await client.post("/api/my-account/primary-phone", json=taken, headers=fresh)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "user.phone_already_in_use"

        changed = await client.post("/api/my-account/primary-phone", json=change, headers=fresh)
        assert changed.status_code == 204, changed.text
        account = (await client.get("/api/my-account")).json()
        assert (account["id"], account["primaryPhone"]) == (registered["id"], NEW_PHONE)

        # Phone is this tenant's sign-up identifier: the account cannot lose it.
        removed = await client.delete("/api/my-account/primary-phone", headers=fresh)
        assert removed.status_code == 400, removed.text
        assert removed.json()["code"] == "user.phone_required"

    async with browser(deployment) as client:  # the new number signs the same account in
        user = EndUser(client, handset)
        await user.start("SignIn")
        identified = await user.identify(await user.prove_phone("SignIn", phone=NEW_PHONE))
        assert identified.status_code == 204, identified.text
        again = await user.signed_in(await user.submit(), phone=NEW_PHONE)
    assert again["id"] == registered["id"]
    await handset.assert_logged("Register", "UserPermissionValidation")
    await handset.assert_logged("BindNewIdentifier", "SignIn", phone=NEW_PHONE)
    await handset.assert_logged("Register", "BindNewIdentifier", phone=THIRD_PHONE)
