"""The Experience API with codes by email, served over real HTTP on SQLite and PostgreSQL, the
development outbox as Email connector: register by email code, sign in by email code, forgot
password by email code, and no email to an unknown address on forgot password."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests import local_http
from tests.e2e.conftest import Deployment, deploy_for_test

from phoneauth.settings import Settings

EMAIL_CODE = {
    "identifier": "email",
    "password": False,
    "verificationCode": True,
    "isPasswordPrimary": False,
}


@pytest.fixture
def deployment(
    settings: Settings,
    module_settings: Settings,
    module_app: FastAPI,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    with deploy_for_test(settings, module_settings, module_app, request) as deployed:
        yield deployed


@pytest.fixture
def api(deployment: Deployment) -> Iterator[httpx.Client]:
    with local_http.client(base_url=deployment.url, headers=deployment.auth, timeout=60) as client:
        saved = client.post("/api/connectors", json={"connectorId": "outbox-email"})
        assert saved.status_code == 200, saved.text
        settings = client.patch(
            "/api/sign-in-exp",
            json={
                "signUp": {"identifiers": ["email"], "password": False, "verify": True},
                "signIn": {"methods": [EMAIL_CODE]},
                "forgotPasswordMethods": ["EmailVerificationCode"],
            },
        )
        assert settings.status_code == 200, settings.text
        yield client


def _browser(deployment: Deployment) -> httpx.Client:
    return local_http.client(base_url=deployment.url, timeout=60)


def _outbox(api: httpx.Client, email: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get("/api/outbox", params={"email": email}).json()
    return found


def _prove(api: httpx.Client, browser: httpx.Client, email: str, event: str) -> str:
    """Start `event`, send a code to `email`, verify it from the outbox; the verificationId."""
    started = browser.put("/api/experience", json={"interactionEvent": event})
    assert started.status_code == 204, started.text
    identifier = {"type": "email", "value": email}
    sent = browser.post(
        "/api/experience/verification/verification-code",
        json={"identifier": identifier, "interactionEvent": event},
    )
    assert sent.status_code == 200, sent.text
    verification_id = sent.json()["verificationId"]
    code = _outbox(api, email)[0]["code"]
    verified = browser.post(
        "/api/experience/verification/verification-code/verify",
        json={"identifier": identifier, "verificationId": verification_id, "code": code},
    )
    assert verified.status_code == 200, verified.text
    return str(verification_id)


def test_register_then_sign_in_by_email_code(deployment: Deployment, api: httpx.Client) -> None:
    with _browser(deployment) as browser:
        verification_id = _prove(api, browser, "Ann@Example.com", "Register")
        created = browser.post(
            "/api/experience/identification", json={"verificationId": verification_id}
        )
        assert created.status_code == 201, created.text
        submitted = browser.post("/api/experience/submit")
        assert submitted.status_code == 200, submitted.text
    [user] = api.get("/api/users").json()
    assert user["primaryEmail"] == "Ann@example.com"
    assert user["primaryPhone"] is None

    with _browser(deployment) as browser:
        verification_id = _prove(api, browser, "ann@example.com", "SignIn")
        identified = browser.post(
            "/api/experience/identification", json={"verificationId": verification_id}
        )
        assert identified.status_code == 204, identified.text
        submitted = browser.post("/api/experience/submit")
        assert submitted.status_code == 200, submitted.text

    # Registering the same address again is refused at identification.
    with _browser(deployment) as browser:
        verification_id = _prove(api, browser, "ANN@example.com", "Register")
        taken = browser.post(
            "/api/experience/identification", json={"verificationId": verification_id}
        )
        assert (taken.status_code, taken.json()["code"]) == (422, "user.email_already_in_use")


def test_forgot_password_by_email_code(deployment: Deployment, api: httpx.Client) -> None:
    added = api.post(
        "/api/users", json={"primaryEmail": "bo@example.com", "password": "old-Passw0rd-9x"}
    )
    assert added.status_code == 200, added.text
    user_id = added.json()["id"]
    with _browser(deployment) as browser:
        verification_id = _prove(api, browser, "bo@example.com", "ForgotPassword")
        identified = browser.post(
            "/api/experience/identification", json={"verificationId": verification_id}
        )
        assert identified.status_code == 204, identified.text
        reset = browser.put(
            "/api/experience/profile/password", json={"password": "new-Passw0rd-7q"}
        )
        assert reset.status_code == 204, reset.text
        submitted = browser.post("/api/experience/submit")
        assert submitted.status_code == 204, submitted.text  # a reset opens no session
    checked = api.post(
        f"/api/users/{user_id}/password/verify", json={"password": "new-Passw0rd-7q"}
    )
    assert checked.status_code == 204, checked.text


def test_forgot_password_to_an_unknown_address_sends_nothing(
    deployment: Deployment, api: httpx.Client
) -> None:
    with _browser(deployment) as browser:
        assert (
            browser.put("/api/experience", json={"interactionEvent": "ForgotPassword"}).status_code
            == 204
        )
        sent = browser.post(
            "/api/experience/verification/verification-code",
            json={
                "identifier": {"type": "email", "value": "nobody@example.com"},
                "interactionEvent": "ForgotPassword",
            },
        )
    assert sent.status_code == 200, sent.text
    assert "verificationId" in sent.json()
    assert _outbox(api, "nobody@example.com") == []


def test_a_code_for_another_address_is_an_email_mismatch(
    deployment: Deployment, api: httpx.Client
) -> None:
    with _browser(deployment) as browser:
        browser.put("/api/experience", json={"interactionEvent": "Register"})
        sent = browser.post(
            "/api/experience/verification/verification-code",
            json={
                "identifier": {"type": "email", "value": "cy@example.com"},
                "interactionEvent": "Register",
            },
        )
        code = _outbox(api, "cy@example.com")[0]["code"]
        verified = browser.post(
            "/api/experience/verification/verification-code/verify",
            json={
                "identifier": {"type": "email", "value": "other@example.com"},
                "verificationId": sent.json()["verificationId"],
                "code": code,
            },
        )
    assert (verified.status_code, verified.json()["code"]) == (
        400,
        "verification_code.email_mismatch",
    )


def test_without_an_email_connector_the_experience_send_is_501(
    deployment: Deployment, api: httpx.Client
) -> None:
    [connector] = api.get("/api/connectors").json()
    assert api.delete(f"/api/connectors/{connector['id']}").status_code == 204
    with _browser(deployment) as browser:
        browser.put("/api/experience", json={"interactionEvent": "Register"})
        sent = browser.post(
            "/api/experience/verification/verification-code",
            json={
                "identifier": {"type": "email", "value": "dee@example.com"},
                "interactionEvent": "Register",
            },
        )
    assert (sent.status_code, sent.json()["code"]) == (501, "connector.not_found")
    assert sent.json()["details"]["type"] == "Email"


def test_a_sign_in_binds_the_email_the_sign_up_settings_ask_for(
    deployment: Deployment, api: httpx.Client
) -> None:
    """`POST /experience/profile {type: "email", verificationId}` (Logto's §3.5): an account
    that signs in with its username, where sign-up now asks for an email address, adds one."""
    username_password = {**EMAIL_CODE, "identifier": "username", "password": True}
    changed = api.patch(
        "/api/sign-in-exp", json={"signIn": {"methods": [EMAIL_CODE, username_password]}}
    )
    assert changed.status_code == 200, changed.text
    added = api.post("/api/users", json={"username": "eve", "password": "eve-Passw0rd-3k"})
    assert added.status_code == 200, added.text
    api.post("/api/users", json={"primaryEmail": "taken@example.com"})
    with _browser(deployment) as browser:
        browser.put("/api/experience", json={"interactionEvent": "SignIn"})
        checked = browser.post(
            "/api/experience/verification/password",
            json={
                "identifier": {"type": "username", "value": "eve"},
                "password": "eve-Passw0rd-3k",
            },
        )
        identified = browser.post("/api/experience/identification", json=checked.json())
        assert identified.status_code == 204, identified.text
        missing = browser.post("/api/experience/submit")
        assert (missing.status_code, missing.json()["details"]) == (
            422,
            {"missingProfile": ["email"]},
        )

        def bind(address: str) -> httpx.Response:
            identifier = {"type": "email", "value": address}
            sent = browser.post(
                "/api/experience/verification/verification-code",
                json={"identifier": identifier, "interactionEvent": "SignIn"},
            )
            verification_id = sent.json()["verificationId"]
            code = _outbox(api, address)[0]["code"]
            verified = browser.post(
                "/api/experience/verification/verification-code/verify",
                json={"identifier": identifier, "verificationId": verification_id, "code": code},
            )
            assert verified.status_code == 200, verified.text
            return browser.post(
                "/api/experience/profile", json={"type": "email", "verificationId": verification_id}
            )

        taken = bind("taken@example.com")
        assert (taken.status_code, taken.json()["code"]) == (422, "user.email_already_in_use")
        # The tenant's email blocklist holds for an address bound as profile too.
        policy = {"emailBlocklistPolicy": {"blockSubaddressing": True}}
        assert api.patch("/api/sign-in-exp", json=policy).status_code == 200
        tagged = bind("eve+tag@example.com")
        assert (tagged.status_code, tagged.json()["code"]) == (
            422,
            "session.email_blocklist.email_subaddressing_not_allowed",
        )
        assert bind("eve@example.com").status_code == 204
        submitted = browser.post("/api/experience/submit")
        assert submitted.status_code == 200, submitted.text
    user = api.get(f"/api/users/{added.json()['id']}").json()
    assert user["primaryEmail"] == "eve@example.com"
