"""The sign-in experience's email blocklist, over real HTTP on SQLite and PostgreSQL: Logto's
codes when saving a malformed policy, and Logto's places of enforcement (a registration's code,
its identification, an address bound as profile), never at sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests import local_http
from tests.e2e.conftest import Deployment, deploy_for_test

from phoneauth.settings import Settings

EMAIL_CODE = {"identifier": "email", "password": False, "verificationCode": True}
POLICY = {"blockSubaddressing": True, "customBlocklist": ["@Blocked.example", "eve@example.com"]}


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
        assert client.post("/api/connectors", json={"connectorId": "outbox-email"}).is_success
        settings = client.patch(
            "/api/sign-in-exp",
            json={
                "signUp": {"identifiers": ["email"], "password": False, "verify": True},
                "signIn": {"methods": [EMAIL_CODE]},
            },
        )
        assert settings.status_code == 200, settings.text
        yield client


def _send(browser: httpx.Client, email: str, event: str) -> httpx.Response:
    started = browser.put("/api/experience", json={"interactionEvent": event})
    assert started.status_code == 204, started.text
    return browser.post(
        "/api/experience/verification/verification-code",
        json={"identifier": {"type": "email", "value": email}, "interactionEvent": event},
    )


def _code(api: httpx.Client, email: str) -> str:
    found: list[dict[str, Any]] = api.get("/api/outbox", params={"email": email}).json()
    return str(found[0]["code"])


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_a_malformed_policy_is_refused_and_the_list_is_saved_without_duplicates(
    api: httpx.Client,
) -> None:
    bad = api.patch(
        "/api/sign-in-exp", json={"emailBlocklistPolicy": {"customBlocklist": ["@ok.example", "x"]}}
    )
    assert _error(bad) == (400, "sign_in_experiences.invalid_custom_email_blocklist_format")
    assert bad.json()["details"]["items"] == ["x"]
    disposable = api.patch(
        "/api/sign-in-exp", json={"emailBlocklistPolicy": {"blockDisposableAddresses": True}}
    )
    assert _error(disposable) == (400, "request.invalid_input")
    twice = {"customBlocklist": ["@a.example", "b@c.example", "@a.example"]}
    saved = api.patch("/api/sign-in-exp", json={"emailBlocklistPolicy": twice})
    assert saved.status_code == 200, saved.text
    listed = api.get("/api/sign-in-exp").json()["emailBlocklistPolicy"]["customBlocklist"]
    assert listed == ["@a.example", "b@c.example"]


def test_registration_is_refused_for_blocked_addresses_sign_in_is_not(
    deployment: Deployment, api: httpx.Client
) -> None:
    # Verified before the policy existed: the registration is still refused at identification.
    with local_http.client(base_url=deployment.url, timeout=60) as early:
        sent = _send(early, "eve@example.com", "Register")
        assert sent.status_code == 200, sent.text
        verification_id = sent.json()["verificationId"]
        verified = early.post(
            "/api/experience/verification/verification-code/verify",
            json={
                "identifier": {"type": "email", "value": "eve@example.com"},
                "verificationId": verification_id,
                "code": _code(api, "eve@example.com"),
            },
        )
        assert verified.status_code == 200, verified.text
        assert api.patch("/api/sign-in-exp", json={"emailBlocklistPolicy": POLICY}).is_success
        refused = early.post(
            "/api/experience/identification", json={"verificationId": verification_id}
        )
        assert _error(refused) == (422, "session.email_blocklist.email_not_allowed")
        assert api.get("/api/users").json() == []

    with local_http.client(base_url=deployment.url, timeout=60) as browser:
        tagged = _send(browser, "ann+news@example.com", "Register")
        assert _error(tagged) == (422, "session.email_blocklist.email_subaddressing_not_allowed")
        by_domain = _send(browser, "bob@blocked.EXAMPLE", "Register")
        assert _error(by_domain) == (422, "session.email_blocklist.email_not_allowed")
        assert _error(_send(browser, "eve@Example.com", "Register"))[0] == 422
        assert api.get("/api/outbox", params={"email": "bob@blocked.example"}).json() == []
        assert _send(browser, "ann@example.com", "Register").status_code == 200
        # Sign-in never checks the list: an account made before it keeps working.
        assert _send(browser, "bob@blocked.example", "SignIn").status_code == 200
