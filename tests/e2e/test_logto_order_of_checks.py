"""Logto's connector delete and Logto's order of checks, over real HTTP on SQLite and PostgreSQL.

Each case is one that answered otherwise before (issue 13): the delete of an SMS connector the
sign-in experience uses (Logto deletes; the guard is the opt-in `?ifUnused=true`), digits that
are no valid number on a tenant without an SMS connector (Logto: 501 before anything judges the
number), a verify with another phone than the code's (Logto: `phone_mismatch`), and PATCHes of
the sign-in experience that break several rules at once (Logto's first rule answers).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment
from tests.e2e.test_console import setup_token

from phoneauth.web.pages import SMS_UNAVAILABLE

PHONE = "+4915112345678"
OTHER_PHONE = "+4915187654321"
NO_NUMBER = "1233212321"
"""Digits Logto's guard takes (`^\\d+$`) that are no valid phone number."""
PHONE_CODE = {
    "identifier": "phone",
    "password": False,
    "verificationCode": True,
    "isPasswordPrimary": False,
}
EMAIL_CODE = {**PHONE_CODE, "identifier": "email"}
PHONE_PASSWORD = {**PHONE_CODE, "password": True, "verificationCode": False}
USERNAME_PASSWORD = {**PHONE_PASSWORD, "identifier": "username"}
USERNAME_SIGN_UP = {"identifiers": ["username"], "password": True, "verify": False}
PHONE_SIGN_UP = {"identifiers": ["phone"], "password": False, "verify": True}
CONSOLE_PASSWORD = "console password 1"


@pytest.fixture
def admin(deployment: Deployment) -> Iterator[httpx.Client]:
    with local_http.client(base_url=deployment.url, headers=deployment.auth, timeout=60) as client:
        yield client


@pytest.fixture
def end_user(deployment: Deployment) -> Iterator[httpx.Client]:
    """No admin key, a cookie jar: what a browser on the sign-in page has."""
    with local_http.client(base_url=deployment.url, timeout=60) as client:
        yield client


def add_outbox(admin: httpx.Client) -> str:
    created = admin.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    details: dict[str, Any] = response.json().get("details") or {}
    return details


def start(end_user: httpx.Client, event: str = "SignIn") -> None:
    started = end_user.put("/api/experience", json={"interactionEvent": event})
    assert started.status_code == 204, started.text


def send(end_user: httpx.Client, phone: str, event: str = "SignIn") -> httpx.Response:
    body = {"identifier": {"type": "phone", "value": phone}, "interactionEvent": event}
    return end_user.post("/api/experience/verification/verification-code", json=body)


def verify(end_user: httpx.Client, phone: str, verification_id: str, code: str) -> httpx.Response:
    body = {
        "identifier": {"type": "phone", "value": phone},
        "verificationId": verification_id,
        "code": code,
    }
    return end_user.post("/api/experience/verification/verification-code/verify", json=body)


def sign_in_to_console(deployment: Deployment, client: httpx.Client) -> None:
    """A console session over HTTP: the first admin, made with a fresh setup token."""
    setup = client.get("/console/setup")
    created = client.post(
        "/console/setup",
        data={
            "csrf": csrf_of(setup.text),
            "setup_token": setup_token(deployment),
            "username": "admin",
            "password": CONSOLE_PASSWORD,
            "password_again": CONSOLE_PASSWORD,
        },
    )
    assert created.status_code == 303, created.text


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


# --- item 6: the delete deletes, as in Logto ---------------------------------------------------


def test_deleting_the_connector_sign_in_uses_deletes_and_sign_in_is_then_not_available(
    deployment: Deployment, admin: httpx.Client, end_user: httpx.Client
) -> None:
    connector_id = add_outbox(admin)
    # A saved phone sign-in experience (a PATCH saves the document; it keeps phone sign-in).
    saved = admin.patch("/api/sign-in-exp", json={"signInMode": "SignInAndRegister"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["signIn"]["methods"] == [PHONE_CODE]

    deleted = admin.delete(f"/api/connectors/{connector_id}")
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    assert admin.get("/api/connectors").json() == []
    # Like Logto, the document is left as it was.
    assert admin.get("/api/sign-in-exp").json()["signIn"]["methods"] == [PHONE_CODE]

    # End users read the not-available sentence; the Experience API answers Logto's 501.
    page = end_user.get("/sign-in")
    assert SMS_UNAVAILABLE in page.text
    start(end_user)
    refused(send(end_user, PHONE), 501, "connector.not_found")

    # The console keeps warning on every page until an SMS connector is back.
    with local_http.client(base_url=deployment.url, timeout=60) as console:
        sign_in_to_console(deployment, console)
        for path in ("/console/connectors", "/console/sign-in-experience"):
            html = console.get(path).text
            assert "End users cannot sign in by SMS." in html, path
            assert "sign-in with a code by SMS" in html, path
        add_outbox(admin)
        assert "End users cannot sign in" not in console.get("/console/connectors").text


def test_if_unused_refuses_with_the_dependents_and_force_is_still_accepted(
    admin: httpx.Client,
) -> None:
    connector_id = add_outbox(admin)
    details = refused(
        admin.delete(f"/api/connectors/{connector_id}", params={"ifUnused": "true"}),
        409,
        "connector.in_use_by_sign_in_experience",
    )
    assert details == {
        "type": "Sms",
        "dependents": ["signUp.identifiers: phone", "signIn.methods: phone + verification code"],
    }
    assert admin.get(f"/api/connectors/{connector_id}").status_code == 200
    # `?force=true` (the old way past the guard) still deletes, and wins over the opt-in.
    forced = admin.delete(
        f"/api/connectors/{connector_id}", params={"ifUnused": "true", "force": "true"}
    )
    assert forced.status_code == 204, forced.text
    assert admin.get(f"/api/connectors/{connector_id}").status_code == 404


def test_if_unused_deletes_a_connector_nothing_needs(admin: httpx.Client) -> None:
    connector_id = add_outbox(admin)
    body = {"signUp": USERNAME_SIGN_UP, "signIn": {"methods": [USERNAME_PASSWORD]}}
    assert admin.patch("/api/sign-in-exp", json=body).status_code == 200
    unused = admin.delete(f"/api/connectors/{connector_id}", params={"ifUnused": "true"})
    assert unused.status_code == 204, unused.text


# --- item 5: the code routes ---------------------------------------------------------------------


def test_management_send_to_digits_without_a_connector_is_501_as_in_logto(
    admin: httpx.Client,
) -> None:
    refused(
        admin.post("/api/verification-codes", json={"phone": NO_NUMBER}), 501, "connector.not_found"
    )
    refused(
        admin.post("/api/verification-codes", json={"phone": PHONE}), 501, "connector.not_found"
    )
    # Not digits at all: refused before any connector is looked for.
    refused(
        admin.post("/api/verification-codes", json={"phone": "call me"}),
        400,
        "phone_number.invalid",
    )
    # With a connector, phoneauth still refuses what no provider could deliver (Logto would
    # hand it to the provider and answer the provider's error).
    add_outbox(admin)
    refused(
        admin.post("/api/verification-codes", json={"phone": NO_NUMBER}),
        400,
        "phone_number.invalid",
    )
    assert admin.post("/api/verification-codes", json={"phone": PHONE}).status_code == 204


def test_management_verify_of_digits_no_code_was_sent_to_is_not_found(admin: httpx.Client) -> None:
    add_outbox(admin)
    body = {"phone": NO_NUMBER, "verificationCode": "123456"}
    refused(
        admin.post("/api/verification-codes/verify", json=body), 400, "verification_code.not_found"
    )


def test_experience_send_to_digits_without_a_connector_is_501(end_user: httpx.Client) -> None:
    start(end_user)
    refused(send(end_user, NO_NUMBER), 501, "connector.not_found")


def test_experience_send_answers_logtos_501_before_phoneauths_closed_event_refusal(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    """Logto refuses a closed event only at identification; phoneauth refuses it at send time
    too (no SMS nobody can use), but after Logto's connector lookup."""
    assert admin.patch("/api/sign-in-exp", json={"signInMode": "SignIn"}).status_code == 200
    start(end_user)
    refused(send(end_user, PHONE, "Register"), 501, "connector.not_found")
    add_outbox(admin)
    refused(send(end_user, PHONE, "Register"), 403, "auth.forbidden")
    assert admin.get("/api/outbox").json() == []


def test_experience_verify_with_another_phone_is_phone_mismatch_in_logtos_order(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    add_outbox(admin)
    start(end_user)
    sent = send(end_user, PHONE)
    assert sent.status_code == 200, sent.text
    verification_id = sent.json()["verificationId"]
    code = admin.get("/api/outbox").json()[0]["code"]
    # 1. the record (404) comes before anything about the phone or the code.
    refused(
        verify(end_user, NO_NUMBER, "nope", code), 404, "session.verification_session_not_found"
    )
    # 2. then, the code found, the phone: digits that are no number, or another number.
    refused(
        verify(end_user, NO_NUMBER, verification_id, code), 400, "verification_code.phone_mismatch"
    )
    refused(
        verify(end_user, OTHER_PHONE, verification_id, "000000"),
        400,
        "verification_code.phone_mismatch",
    )
    # 3. then the code itself.
    wrong = "0" * 6 if code != "0" * 6 else "1" * 6
    refused(verify(end_user, PHONE, verification_id, wrong), 400, "verification_code.code_mismatch")
    assert verify(end_user, PHONE, verification_id, code).status_code == 200
    # 4. a consumed code is not found, before the phone is compared (Logto's order).
    refused(
        verify(end_user, OTHER_PHONE, verification_id, code), 400, "verification_code.not_found"
    )


# --- item 5: the sign-in experience rules in Logto's order -------------------------------------


def test_phone_code_sign_in_while_phone_mfa_answers_logtos_sign_in_code(
    admin: httpx.Client,
) -> None:
    """Logto's own integration test: username sign-up, phone MFA, then phone code sign-in. The
    sign-up identifier missing from the sign-in methods (our rule) no longer hides Logto's."""
    add_outbox(admin)
    setup = {
        "signUp": USERNAME_SIGN_UP,
        "signIn": {"methods": [USERNAME_PASSWORD]},
        "mfa": {"policy": "NoPrompt", "factors": ["PhoneVerificationCode", "BackupCode"]},
    }
    assert admin.patch("/api/sign-in-exp", json=setup).status_code == 200
    refused(
        admin.patch("/api/sign-in-exp", json={"signIn": {"methods": [PHONE_CODE]}}),
        400,
        "sign_in_experiences.phone_verification_code_cannot_be_used_for_sign_in",
    )


@pytest.mark.parametrize(
    ("with_sms", "body", "code"),
    [
        # A secondary email or phone needs `signUp.verify` too, before any connector.
        (
            False,
            {
                "signUp": {
                    **USERNAME_SIGN_UP,
                    "secondaryIdentifiers": [{"identifier": "phone", "verify": True}],
                }
            },
            "sign_in_experiences.passwordless_requires_verify",
        ),
        # Sign-up and sign-in fine by Logto's rules, MFA broken: Logto's MFA code, not our
        # sign-up-identifier-in-sign-in rule.
        (
            True,
            {
                "signUp": PHONE_SIGN_UP,
                "signIn": {"methods": [USERNAME_PASSWORD]},
                "mfa": {"factors": ["BackupCode"], "policy": "Mandatory"},
            },
            "sign_in_experiences.backup_code_cannot_be_enabled_alone",
        ),
        # A sign-up change that our re-check of the stored methods would refuse, with broken MFA.
        (
            True,
            {"signUp": PHONE_SIGN_UP, "mfa": {"factors": ["Totp", "Totp"], "policy": "Mandatory"}},
            "sign_in_experiences.duplicated_mfa_factors",
        ),
        # The sign-in connector rule comes before the factor and MFA rules.
        (
            False,
            {
                "signIn": {"methods": [PHONE_CODE, {**USERNAME_PASSWORD, "password": False}]},
                "mfa": {"factors": ["PhoneVerificationCode", "Totp"], "policy": "Mandatory"},
            },
            "sign_in_experiences.enabled_connector_not_found",
        ),
        # Phone code sign-in and phone MFA sent together: the sign-in rule runs first.
        (
            True,
            {
                "signIn": {"methods": [PHONE_CODE]},
                "mfa": {"factors": ["PhoneVerificationCode", "PhoneVerificationCode"]},
            },
            "sign_in_experiences.phone_verification_code_cannot_be_used_for_sign_in",
        ),
        # MFA rules before the forgot-password connector rule.
        (
            False,
            {
                "mfa": {"factors": ["BackupCode"], "policy": "Mandatory"},
                "forgotPasswordMethods": ["PhoneVerificationCode"],
            },
            "sign_in_experiences.backup_code_cannot_be_enabled_alone",
        ),
    ],
)
def test_several_broken_rules_answer_logtos_first(
    admin: httpx.Client, with_sms: bool, body: dict[str, Any], code: str
) -> None:
    if with_sms:
        add_outbox(admin)
    stored = {
        "signUp": USERNAME_SIGN_UP,
        "signIn": {"methods": [USERNAME_PASSWORD, PHONE_PASSWORD]},
    }
    assert admin.patch("/api/sign-in-exp", json=stored).status_code == 200
    before = admin.get("/api/sign-in-exp").json()
    refused(admin.patch("/api/sign-in-exp", json=body), 400, code)
    assert admin.get("/api/sign-in-exp").json() == before


@pytest.mark.parametrize(
    "body",
    [
        {"signIn": {"methods": [PHONE_CODE, EMAIL_CODE]}},
        {
            "signUp": {
                **PHONE_SIGN_UP,
                "secondaryIdentifiers": [{"identifier": "email", "verify": True}],
            }
        },
    ],
)
def test_the_email_connector_is_asked_for_before_the_sms_one(
    admin: httpx.Client, body: dict[str, Any]
) -> None:
    """Phone listed first, no connector at all: Logto still names the Email connector."""
    details = refused(
        admin.patch("/api/sign-in-exp", json=body),
        400,
        "sign_in_experiences.enabled_connector_not_found",
    )
    assert details["type"] == "Email"
