"""The console for email and username, over real HTTP on SQLite and PostgreSQL: the sign-in
experience page (identifiers, secondary identifiers, reset methods, each missing connector
named), the warning after the Email connector is deleted through the API, the Email connector in
the tenant migration, email test sends in the message log, and unavailable connectors by kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import httpx
import pytest
from tests import local_http
from tests.servers import serve_in_thread
from tests.web.test_console_pages import csrf_of

from phoneauth.connectors import ConnectorRegistry
from phoneauth.connectors.registry import ENTRY_POINT_GROUP
from phoneauth.connectors.templates import default_email_templates
from phoneauth.domain.connector_configs import SECRET_MASK
from phoneauth.settings import Settings
from phoneauth.web.app import create_app
from phoneauth.wiring import Services

PASSWORD = "console password 1"
SMTP_PASSWORD = "smtp-pass-never-shown"
SMTP: dict[str, Any] = {
    "connectorId": "simple-mail-transfer-protocol",
    "config": {
        "host": "127.0.0.1",
        "port": 2525,
        "auth": {"type": "login", "user": "mailer", "pass": SMTP_PASSWORD},
        "fromEmail": "no-reply@example.com",
        "templates": default_email_templates(),
    },
}
HTTP_SMS: dict[str, Any] = {"connectorId": "http-sms", "config": {"endpoint": "http://127.0.0.1:9"}}
CONSOLE_PAGES = (
    "/console/connectors",
    "/console/sign-in-experience",
    "/console/message-log",
    "/console/tenants",
)


@pytest.fixture
def base_url(settings: Settings, admin_key: str) -> Iterator[str]:
    """A second app on the database the `app` fixture migrated, served by uvicorn."""
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture
def admin(base_url: str, admin_key: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {admin_key}"}
    with local_http.client(base_url=base_url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture
async def setup_token(services: Services) -> str:
    return await services.console.setup_tokens.issue()


@pytest.fixture
def console(base_url: str, setup_token: str) -> Iterator[httpx.Client]:
    """A browser signed in as the first console admin; its CSRF token in `headers["x-csrf"]`
    (a header the app ignores; kept there for the tests' forms)."""
    with local_http.client(base_url=base_url, timeout=60) as client:
        page = client.get("/console/setup")
        created = client.post(
            "/console/setup",
            data={
                "csrf": csrf_of(page.text),
                "setup_token": setup_token,
                "username": "admin",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        assert created.status_code == 303, created.text
        client.headers["x-csrf"] = csrf_of(client.get("/console/connectors").text)
        yield client


def add(admin: httpx.Client, connector: dict[str, Any], prefix: str = "") -> str:
    created = admin.post(f"{prefix}/api/connectors", json=connector)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def sie_form(console: httpx.Client, **fields: Any) -> dict[str, Any]:
    """The sign-in experience form as the page posts it; `fields` replace its values."""
    form: dict[str, Any] = {
        "csrf": console.headers["x-csrf"],
        "action": "save",
        "sign_up_identifier": "username",
        "sign_up_password": "on",
        "sign_in_mode": "SignInAndRegister",
        "secondary_shown": "1",
        "forgot_password_shown": "1",
        "method-0-identifier": "username",
        "method-0-password": "on",
    }
    return form | fields


def in_words(page: str, marker: str) -> str | None:
    found = re.search(rf"<(?:div|p)[^>]*{marker}[^>]*>(.*?)</(?:div|p)>", page, re.DOTALL)
    return None if found is None else " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def test_the_sign_in_experience_page_edits_email_and_username_and_names_missing_connectors(
    admin: httpx.Client, console: httpx.Client
) -> None:
    add(admin, {"connectorId": "outbox-sms", "config": {}})
    page = console.get("/console/sign-in-experience").text
    assert in_words(page, 'data-needs-connector="Email"') == (
        "This tenant has no Email connector yet: the choices marked “needs an Email connector” "
        "cannot be saved until one is set up. Set up an Email connector"
    )
    assert 'href="/console/connectors/new?type=email"' in page
    assert 'data-needs-connector="Sms"' not in page
    assert '<option value="email">Email address (needs an Email connector)</option>' in page
    assert "A code by email (needs an Email connector)" in page

    # Logto's rule, refused in words; nothing saved.
    email_sign_up = sie_form(
        console,
        sign_up_identifier="email",
        sign_up_verify="on",
        **{"method-0-identifier": "email", "method-0-code": "on"},
    )
    refused = console.post("/console/sign-in-experience", data=email_sign_up)
    assert refused.status_code == 400
    assert in_words(refused.text, "data-error") == (
        "Sign-up asks for an email address: this needs an Email connector to send the codes. "
        "Set one up under Connectors first, or change this setting."
    )
    assert "enabled_connector_not_found" not in refused.text
    assert admin.get("/api/sign-in-exp").json()["signUp"]["identifiers"] != ["email"]

    email_id = add(admin, {"connectorId": "outbox-email", "config": {}})
    page = console.get("/console/sign-in-experience").text
    assert "data-needs-connector" not in page
    assert "needs an" not in page
    # Both reset methods ticked for Logto's null, which stays null when saved so.
    form = email_sign_up | {
        "secondary": ["phone", "username"],
        "forgot_password": ["EmailVerificationCode", "PhoneVerificationCode"],
        "method-1-identifier": "username",
        "method-1-password": "on",
        "method-2-identifier": "phone",
        "method-2-code": "on",
    }
    saved = console.post("/console/sign-in-experience", data=form)
    assert saved.status_code == 303, saved.text
    document = admin.get("/api/sign-in-exp").json()
    assert document["signUp"] == {
        "identifiers": ["email"],
        "password": True,
        "verify": True,
        "secondaryIdentifiers": [
            {"identifier": "username", "verify": None},
            {"identifier": "phone", "verify": True},
        ],
    }
    methods = document["signIn"]["methods"]
    assert [(m["identifier"], m["password"], m["verificationCode"]) for m in methods] == [
        ("email", True, True),
        ("username", True, False),
        ("phone", False, True),
    ]
    assert document["forgotPasswordMethods"] is None

    form["forgot_password"] = ["EmailVerificationCode"]
    form["secondary"] = ["phone"]
    assert console.post("/console/sign-in-experience", data=form).status_code == 303
    document = admin.get("/api/sign-in-exp").json()
    assert document["forgotPasswordMethods"] == ["EmailVerificationCode"]
    assert document["signUp"]["secondaryIdentifiers"] == [{"identifier": "phone", "verify": True}]
    page = console.get("/console/sign-in-experience").text
    assert re.search(r'value="EmailVerificationCode"\s+checked', page)
    assert not re.search(r'value="PhoneVerificationCode"\s+checked', page)

    # Another of Logto's rules, in words: the same identifier twice.
    twice = console.post("/console/sign-in-experience", data=form | {"secondary": ["emailOrPhone"]})
    assert twice.status_code == 400
    assert in_words(twice.text, "data-error") == (
        "Sign-up asks for the same identifier twice. Keep it once."
    )

    # Logto's delete deletes; the page then names the connector again.
    assert admin.delete(f"/api/connectors/{email_id}").status_code == 204
    page = console.get("/console/sign-in-experience").text
    assert 'data-needs-connector="Email"' in page
    assert "(needs an Email connector)</span>" in page  # the email method's code box


def test_every_console_page_warns_after_the_email_connector_is_deleted_through_the_api(
    admin: httpx.Client, console: httpx.Client
) -> None:
    add(admin, {"connectorId": "outbox-sms", "config": {}})
    email_id = add(admin, {"connectorId": "outbox-email", "config": {}})
    changed = admin.patch(
        "/api/sign-in-exp",
        json={
            "signUp": {"identifiers": ["email"], "password": True, "verify": True},
            "signIn": {
                "methods": [{"identifier": "email", "password": True, "verificationCode": True}]
            },
            "forgotPasswordMethods": ["EmailVerificationCode"],
        },
    )
    assert changed.status_code == 200, changed.text
    for path in CONSOLE_PAGES:
        assert "data-email-warning" not in console.get(path).text, path

    assert admin.delete(f"/api/connectors/{email_id}").status_code == 204
    for path in CONSOLE_PAGES:
        page = console.get(path).text
        assert in_words(page, "data-email-warning") == (
            "End users cannot get codes by email. The sign-in experience uses email (sign-up "
            "with an email address, sign-in with a code by email, password reset by email), but "
            "this tenant has no working Email connector. Add an Email connector or change the "
            "sign-in experience."
        ), path
        assert '<a href="/console/connectors" data-fix-email-connector>' in page
        assert "data-sms-warning" not in page
        assert "EmailVerificationCode" not in in_words(page, "data-email-warning")

    add(admin, {"connectorId": "outbox-email", "config": {}})
    assert "data-email-warning" not in console.get("/console/connectors").text


def test_the_migration_carries_the_email_connector_and_its_secrets_as_for_sms(
    admin: httpx.Client, console: httpx.Client
) -> None:
    made = admin.post("/api/tenants", json={"id": "prod", "name": "Prod", "kind": "production"})
    assert made.status_code == 201, made.text
    add(admin, HTTP_SMS)
    add(admin, SMTP)
    masked = admin.get("/api/tenants/default/export").json()
    assert masked["emailConnector"]["connectorId"] == "simple-mail-transfer-protocol"
    assert masked["emailConnector"]["config"]["auth"]["pass"] == SECRET_MASK
    assert SMTP_PASSWORD not in str(masked)

    # Without secrets, a target with no SMTP password of its own is refused, naming which.
    refused = admin.post("/api/tenants/prod/import?dryRun=true", json=masked)
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "connector.invalid_config"
    assert refused.json()["details"]["type"] == "Email"
    preview = console.post(
        "/console/tenants/migrate",
        data={"csrf": console.headers["x-csrf"], "source": "default", "target": "prod"},
    )
    assert in_words(preview.text, "data-error") is not None
    assert "set up the Email connector on “prod” first" in preview.text

    revealed = admin.get("/api/tenants/default/export?includeSecrets=true").json()
    dry = admin.post("/api/tenants/prod/import?dryRun=true", json=revealed)
    assert dry.status_code == 200, dry.text
    changes = {c["path"]: (c["before"], c["after"]) for c in dry.json()["changes"]}
    assert changes["emailConnector.connectorId"] == (None, "simple-mail-transfer-protocol")
    assert changes["emailConnector.config.auth.pass"] == (None, SECRET_MASK)
    assert changes["emailConnector.config.auth.user"] == (None, "mailer")
    assert SMTP_PASSWORD not in dry.text
    page = console.post(
        "/console/tenants/migrate",
        data={
            "csrf": console.headers["x-csrf"],
            "source": "default",
            "target": "prod",
            "include_secrets": "on",
        },
    )
    assert page.status_code == 200, page.text
    assert 'data-change="emailConnector.config"' in page.text
    assert SMTP_PASSWORD not in page.text

    applied = admin.post("/api/tenants/prod/import", json=revealed)
    assert applied.status_code == 200, applied.text
    arrived = admin.get("/api/tenants/prod/export?includeSecrets=true").json()
    assert arrived["emailConnector"]["config"]["auth"] == SMTP["config"]["auth"]
    assert arrived["connector"]["connectorId"] == "http-sms"
    # Masked again: the target keeps its own password, so nothing changes.
    again = admin.post("/api/tenants/prod/import?dryRun=true", json=masked)
    assert again.status_code == 200, again.text
    assert again.json()["changes"] == []


def test_email_test_sends_are_in_the_message_log_masked_with_their_channel(
    admin: httpx.Client, console: httpx.Client, closed_port: int
) -> None:
    add(admin, {"connectorId": "outbox-email", "config": {}})
    sent = admin.post(
        "/api/connectors/outbox-email/test", json={"email": "jane@Example.COM", "config": {}}
    )
    assert sent.status_code == 204, sent.text
    broken = {"endpoint": f"http://127.0.0.1:{closed_port}/mail"}
    failed = admin.post(
        "/api/connectors/http-email/test", json={"email": "bob@example.org", "config": broken}
    )
    assert failed.status_code >= 400
    texted = admin.post(
        "/api/connectors/outbox-sms/test", json={"phone": "+4915112349999", "config": {}}
    )
    assert texted.status_code == 204, texted.text

    rows = admin.get("/api/message-logs").json()
    seen = [(r["channel"], r["phone"], r["status"], r["testSend"], r["factoryId"]) for r in rows]
    assert seen == [
        ("sms", "+4915*****9999", "sent", True, "outbox-sms"),
        ("email", "b***@example.org", "failed", True, "http-email"),
        ("email", "j***@example.com", "sent", True, "outbox-email"),
    ]
    assert "jane" not in str(rows)
    assert "bob" not in str(rows)

    log_page = console.get("/console/message-log").text
    assert log_page.count('data-channel="email"') == 2
    assert log_page.count('data-channel="sms"') == 1
    connectors = console.get("/console/connectors").text
    email_last = re.search(r"<span data-email-last-send>(.*?)</span>\s*</p>", connectors, re.S)
    assert email_last is not None
    assert "j***@example.com" in email_last.group(1)
    assert "connector test send" in email_last.group(1)


def test_unavailable_connectors_are_listed_with_the_providers_of_their_kind(
    settings: Settings, admin_key: str, setup_token: str
) -> None:
    registry = ConnectorRegistry()
    registry.load_builtins()
    registry.load_entry_points(
        [
            EntryPoint(name=name, value="no_such_module_here:FACTORY", group=ENTRY_POINT_GROUP)
            for name in ("acme-sms", "acme-email", "mystery")
        ]
    )
    with (
        serve_in_thread(create_app(settings, registry)) as url,
        local_http.client(base_url=url, timeout=60) as client,
    ):
        page = client.get("/console/setup")
        form = {
            "csrf": csrf_of(page.text),
            "setup_token": setup_token,
            "username": "admin",
            "password": PASSWORD,
            "password_again": PASSWORD,
        }
        assert client.post("/console/setup", data=form).status_code == 303
        listed = {}
        for kind in ("sms", "email"):
            choose = client.get(f"/console/connectors/new?type={kind}").text
            listed[kind] = re.findall(r'data-unavailable-connector="([^"]+)"', choose)
            assert "kind unknown" in choose
    assert listed == {"sms": ["acme-sms", "mystery"], "email": ["acme-email", "mystery"]}
