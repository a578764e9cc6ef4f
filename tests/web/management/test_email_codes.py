"""Verification codes by email over the Management API, served over real HTTP on SQLite and
PostgreSQL: Logto's `{email}` bodies, the 501 without an Email connector, the outbox and a real
SMTP server as the connector, and no address or code in the message log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests import local_http
from tests.e2e.conftest import Deployment, deploy_for_test
from tests.resend_support import NO_COOLDOWN
from tests.smtp_servers import self_signed_certificate, smtp_server

from phoneauth.settings import Settings


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
        yield client


def _outbox_code(api: httpx.Client, email: str) -> str:
    newest = api.get("/api/outbox", params={"email": email}).json()[0]
    return str(newest["code"])


def test_send_and_verify_a_generic_code_by_email(api: httpx.Client) -> None:
    assert api.post("/api/connectors", json={"connectorId": "outbox-email"}).status_code == 200
    sent = api.post("/api/verification-codes", json={"email": "Jane@Example.com"})
    assert sent.status_code == 204, sent.text
    code = _outbox_code(api, "Jane@example.com")
    wrong = "000000" if code != "000000" else "111111"
    mismatch = api.post(
        "/api/verification-codes/verify",
        json={"email": "Jane@Example.com", "verificationCode": wrong},
    )
    assert (mismatch.status_code, mismatch.json()["code"]) == (
        400,
        "verification_code.code_mismatch",
    )
    verified = api.post(
        "/api/verification-codes/verify",
        json={"email": "Jane@Example.com", "verificationCode": code},
    )
    assert verified.status_code == 204, verified.text
    again = api.post(
        "/api/verification-codes/verify",
        json={"email": "Jane@Example.com", "verificationCode": code},
    )
    assert (again.status_code, again.json()["code"]) == (400, "verification_code.not_found")
    # The message log has the send, with the address masked; neither address nor code.
    logged = api.get("/api/message-logs").json()
    text = str(logged)
    assert "j***@example.com" in text
    assert "jane@" not in text.lower()
    assert code not in text


def test_a_new_code_replaces_the_waiting_one_for_the_same_address(api: httpx.Client) -> None:
    api.post("/api/connectors", json={"connectorId": "outbox-email"})
    assert api.patch("/api/tenant/settings", json=NO_COOLDOWN).status_code == 200
    assert api.post("/api/verification-codes", json={"email": "jo@example.com"}).status_code == 204
    first = _outbox_code(api, "jo@example.com")
    assert api.post("/api/verification-codes", json={"email": "JO@example.com"}).status_code == 204
    second = _outbox_code(api, "JO@example.com")
    if first != second:
        stale = api.post(
            "/api/verification-codes/verify",
            json={"email": "jo@example.com", "verificationCode": first},
        )
        assert stale.json()["code"] == "verification_code.code_mismatch"
    fresh = api.post(
        "/api/verification-codes/verify",
        json={"email": "jo@example.com", "verificationCode": second},
    )
    assert fresh.status_code == 204, fresh.text


def test_without_an_email_connector_the_send_is_501(api: httpx.Client) -> None:
    # An SMS connector is no Email connector.
    api.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    sent = api.post("/api/verification-codes", json={"email": "jane@example.com"})
    assert sent.status_code == 501
    assert sent.json()["code"] == "connector.not_found"
    assert sent.json()["details"]["type"] == "Email"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-address"},
        {"email": "jane@example.com", "phone": "+4915112345678"},
        {},
        {"email": ""},
    ],
)
def test_a_bad_body_is_400_before_the_connector_lookup(
    api: httpx.Client, body: dict[str, str]
) -> None:
    sent = api.post("/api/verification-codes", json=body)
    assert sent.status_code == 400, sent.text
    assert sent.json()["code"] == "guard.invalid_input"
    verify = api.post("/api/verification-codes/verify", json={**body, "verificationCode": "1"})
    assert verify.status_code == 400
    assert verify.json()["code"] == "guard.invalid_input"


def test_the_recipient_budget_counts_email_sends(api: httpx.Client) -> None:
    api.post("/api/connectors", json={"connectorId": "outbox-email"})
    assert api.patch("/api/tenant/settings", json=NO_COOLDOWN).status_code == 200
    answers = [
        api.post("/api/verification-codes", json={"email": "busy@example.com"}).status_code
        for _ in range(12)
    ]
    assert answers[0] == 204
    assert 429 in answers
    refused = api.post("/api/verification-codes", json={"email": "BUSY@example.com"})
    assert refused.json()["code"] == "request.message_rate_limited"


def test_a_code_by_smtp_arrives_and_verifies(api: httpx.Client, tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    with smtp_server(starttls=certificate, users={"mailer": "smtp-pass-3f9a"}) as server:
        config = {
            "host": server.host,
            "port": server.port,
            "auth": {"user": "mailer", "pass": "smtp-pass-3f9a"},
            "requireTLS": True,
            "tls": {"ca": certificate.pem},
            "fromEmail": "no-reply@example.com",
            "templates": [
                {
                    "usageType": usage,
                    "contentType": "text/plain",
                    "subject": "Your code",
                    "content": "Code: {{code}}",
                }
                for usage in ("SignIn", "Register", "ForgotPassword", "Generic")
            ],
        }
        saved = api.post(
            "/api/connectors",
            json={"connectorId": "simple-mail-transfer-protocol", "config": config},
        )
        assert saved.status_code == 200, saved.text
        sent = api.post("/api/verification-codes", json={"email": "sam@example.com"})
        assert sent.status_code == 204, sent.text
        [received] = server.received
    assert received.rcpt_tos == ["sam@example.com"]
    code = str(received.message.get_content()).strip().removeprefix("Code: ")
    assert len(code) == 6
    assert code.isdigit()
    verified = api.post(
        "/api/verification-codes/verify",
        json={"email": "sam@example.com", "verificationCode": code},
    )
    assert verified.status_code == 204, verified.text
