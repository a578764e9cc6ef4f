"""Email connectors over the Management API, served over real HTTP on SQLite and PostgreSQL:
Logto's shapes, one active connector per type beside the SMS one, and the test send."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests import local_http
from tests.e2e.conftest import Deployment, deploy_for_test
from tests.smtp_servers import Certificate, SmtpServer, self_signed_certificate, smtp_server

from phoneauth.settings import Settings

SMTP = "simple-mail-transfer-protocol"
MASK = "**********"
PASSWORD = "smtp-pass-3f9a"
TEMPLATES = [
    {
        "usageType": usage,
        "contentType": "text/plain",
        "subject": f"{usage} code",
        "content": f"Your {usage} code is {{{{code}}}}.",
    }
    for usage in ("SignIn", "Register", "ForgotPassword")
] + [
    {
        "usageType": "Generic",
        "contentType": "text/html",
        "subject": "Test {{code}}",
        "content": "<p>Generic <b>{{code}}</b></p>",
    }
]


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


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def mail_server(certificate: Certificate) -> Iterator[SmtpServer]:
    with smtp_server(starttls=certificate, users={"mailer": PASSWORD}) as server:
        yield server


def _smtp_config(server: SmtpServer, certificate: Certificate, **extra: Any) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "auth": {"user": "mailer", "pass": PASSWORD},
        "fromEmail": "no-reply@example.com",
        "requireTLS": True,
        "tls": {"ca": certificate.pem},
        "templates": TEMPLATES,
        **extra,
    }


def test_factories_list_the_email_connectors_with_logtos_shape(api: httpx.Client) -> None:
    factories = {factory["id"]: factory for factory in api.get("/api/connector-factories").json()}
    for factory_id in (SMTP, "http-email", "outbox-email"):
        assert factories[factory_id]["type"] == "Email"
        assert factories[factory_id]["platform"] is None
        assert factories[factory_id]["isDemo"] is False
    assert factories[SMTP]["target"] == "smtp"
    assert factories["http-email"]["name"] == {"en": "HTTP Email"}
    assert factories["twilio-short-message-service"]["type"] == "Sms"
    keys = [item["key"] for item in factories[SMTP]["formItems"]]
    assert keys[:5] == ["host", "port", "auth", "fromEmail", "templates"]
    one = api.get(f"/api/connector-factories/{SMTP}")
    assert one.status_code == 200
    assert one.json()["type"] == "Email"


def test_an_email_and_an_sms_connector_coexist_and_a_second_email_replaces_the_first(
    api: httpx.Client, mail_server: SmtpServer, certificate: Certificate
) -> None:
    sms = api.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert sms.status_code == 200
    created = api.post(
        "/api/connectors",
        json={"connectorId": SMTP, "config": _smtp_config(mail_server, certificate)},
    )
    assert created.status_code == 200, created.text
    email = created.json()
    assert email["type"] == "Email"
    assert email["connectorId"] == SMTP
    assert email["config"]["auth"] == {"user": "mailer", "pass": MASK}
    assert PASSWORD not in created.text
    listed = {c["type"]: c["connectorId"] for c in api.get("/api/connectors").json()}
    assert listed == {"Sms": "outbox-sms", "Email": SMTP}
    assert api.get(f"/api/connectors/{email['id']}").json()["type"] == "Email"

    # Logto's replaceConnectorsByType: the new Email connector replaces the old one, the SMS
    # connector stays.
    replaced = api.post(
        "/api/connectors",
        json={"connectorId": "http-email", "config": {"endpoint": "https://mail.example.com"}},
    )
    assert replaced.status_code == 200
    listed = {c["type"]: c["connectorId"] for c in api.get("/api/connectors").json()}
    assert listed == {"Sms": "outbox-sms", "Email": "http-email"}
    assert api.get(f"/api/connectors/{email['id']}").status_code == 404


def test_the_test_send_delivers_the_generic_template_over_starttls(
    api: httpx.Client, mail_server: SmtpServer, certificate: Certificate
) -> None:
    config = _smtp_config(mail_server, certificate)
    sent = api.post(
        f"/api/connectors/{SMTP}/test", json={"email": "Jane@Example.com", "config": config}
    )
    assert sent.status_code == 204, sent.text
    [received] = mail_server.received
    assert received.tls is True
    assert received.login == "mailer"
    assert received.rcpt_tos == ["Jane@example.com"]
    mail = received.message
    assert (mail["From"], mail["To"], mail["Subject"]) == (
        "no-reply@example.com",
        "Jane@example.com",
        "Test 000000",
    )
    assert mail.get_content_type() == "text/html"
    assert mail.get_content() == "<p>Generic <b>000000</b></p>\r\n"
    assert api.get("/api/connectors").json() == []  # nothing saved


def test_a_masked_password_keeps_the_stored_one(
    api: httpx.Client, mail_server: SmtpServer, certificate: Certificate
) -> None:
    config = _smtp_config(mail_server, certificate)
    created = api.post("/api/connectors", json={"connectorId": SMTP, "config": config})
    masked = created.json()["config"]
    patched = api.patch(
        f"/api/connectors/{created.json()['id']}",
        json={"config": masked | {"replyTo": "help@example.com"}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["config"]["auth"]["pass"] == MASK
    # The form sends the mask back to test: the stored password signs in.
    tested = api.post(
        f"/api/connectors/{SMTP}/test",
        json={"email": "jane@example.com", "config": patched.json()["config"]},
    )
    assert tested.status_code == 204, tested.text
    assert mail_server.received[-1].message["Reply-To"] == "help@example.com"
    wrong = api.post(
        "/api/connectors",
        json={"connectorId": SMTP, "config": config | {"auth": {"user": "mailer", "pass": "no"}}},
    )
    assert wrong.status_code == 200
    refused = api.post(
        f"/api/connectors/{SMTP}/test",
        json={
            "email": "jane@example.com",
            "config": wrong.json()["config"] | {"auth": {"user": "mailer", "pass": "no"}},
        },
    )
    assert refused.status_code == 502
    assert refused.json()["code"] == "connector.authorization_failed"
    assert "jane@" not in refused.text


@pytest.mark.parametrize(
    ("factory_id", "body", "status", "code"),
    [
        (SMTP, {"phone": "+4915112345678", "config": {}}, 400, "connector.unexpected_type"),
        ("outbox-sms", {"email": "a@example.com", "config": {}}, 400, "connector.unexpected_type"),
        (SMTP, {"email": "not-an-address", "config": {}}, 400, "guard.invalid_input"),
        (SMTP, {"email": "a@example.com", "config": {}}, 400, "connector.invalid_config"),
        ("pigeon-mail", {"email": "a@example.com", "config": {}}, 404, "connector.not_found"),
    ],
)
def test_test_send_refusals(
    api: httpx.Client, factory_id: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = api.post(f"/api/connectors/{factory_id}/test", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_the_email_outbox_keeps_subject_body_and_code(api: httpx.Client) -> None:
    saved = api.post("/api/connectors", json={"connectorId": "outbox-email"})
    assert saved.status_code == 200
    assert saved.json()["type"] == "Email"
    tested = api.post(
        "/api/connectors/outbox-email/test", json={"email": "jane@example.com", "config": {}}
    )
    assert tested.status_code == 204
    [kept] = api.get("/api/outbox", params={"email": "jane@example.com"}).json()
    assert kept["to"] == "jane@example.com"
    assert kept["code"] == "000000"
    assert kept["subject"] == "Your verification code"
    assert kept["contentType"] == "text/plain"
    assert kept["text"] == "Your verification code is 000000."
    searched = api.post("/api/outbox/search", json={"email": "jane@example.com"}).json()
    assert [m["id"] for m in searched] == [kept["id"]]


def test_a_production_tenant_refuses_the_email_outbox(api: httpx.Client, tmp_path: Path) -> None:
    created = api.post("/api/tenants", json={"id": "prod", "name": "prod", "kind": "production"})
    assert created.status_code == 201
    refused = api.post("/t/prod/api/connectors", json={"connectorId": "outbox-email"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "connector.development_only"


EMAIL_CODE = {
    "identifier": "email",
    "password": False,
    "verificationCode": True,
    "isPasswordPrimary": False,
}


def test_email_sign_in_settings_need_and_accept_an_email_connector(api: httpx.Client) -> None:
    body = {
        "signUp": {"identifiers": ["email"], "password": False, "verify": True},
        "signIn": {"methods": [EMAIL_CODE]},
    }
    refused = api.patch("/api/sign-in-exp", json=body)
    assert refused.status_code == 400
    assert refused.json()["code"] == "sign_in_experiences.enabled_connector_not_found"
    assert refused.json()["details"]["type"] == "Email"
    assert api.post("/api/connectors", json={"connectorId": "outbox-email"}).status_code == 200
    saved = api.patch("/api/sign-in-exp", json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["signUp"]["identifiers"] == ["email"]
    assert saved.json()["signIn"]["methods"][0]["identifier"] == "email"
    forgot = api.patch(
        "/api/sign-in-exp", json={"forgotPasswordMethods": ["EmailVerificationCode"]}
    )
    assert forgot.status_code == 200, forgot.text
    # An SMS rule still needs the SMS connector.
    phone = api.patch("/api/sign-in-exp", json={"forgotPasswordMethods": ["PhoneVerificationCode"]})
    assert phone.status_code == 400
    assert phone.json()["code"] == "sign_in_experiences.forgot_password_method_requires_connector"
