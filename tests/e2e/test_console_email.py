"""The console's Email connector in Chromium: set up the email outbox beside the SMS connector,
set up SMTP against a real SMTP server, and the warning while email sign-in has no Email
connector.

A server of its own on an SQLite file (the helpers are test_console.py's); every step that a
person looks at is photographed to tests/artifacts/console-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsers import laptop_page
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_console import api, new_tenant, shoot, sign_in, switch_to, use_outbox
from tests.smtp_servers import smtp_server

PASSWORD = "smtp-password-never-shown"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("email"), "console-email-secret") as site:
        yield site


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


def choose_email_provider(page: Page, factory_id: str) -> None:
    page.locator("[data-email-empty-state]").get_by_role("link", name="Set up").click()
    expect(page.get_by_role("heading", name="Set up the Email connector")).to_be_visible()
    offered = page.locator("[data-provider]")
    expect(offered).to_have_count(3)
    for expected in ("simple-mail-transfer-protocol", "http-email", "outbox-email"):
        expect(page.locator(f'[data-provider="{expected}"]')).to_be_visible()
    page.locator(f'[data-provider="{factory_id}"]').click()


def test_the_email_outbox_is_set_up_tested_and_saved_beside_the_sms_connector(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "mail")
    use_outbox(site, "mail")
    sign_in(site, page)
    switch_to(page, "mail")
    expect(page.locator("[data-active-connector]")).to_contain_text("Development outbox")
    expect(page.locator("[data-email-empty-state]")).to_contain_text("No Email connector yet")
    shoot(page, "connectors-sms-only")

    choose_email_provider(page, "outbox-email")
    expect(page.get_by_role("heading", name="Development email outbox")).to_be_visible()
    expect(page.locator('[data-template-help="content"]')).to_contain_text("contentType")
    page.locator("#test_email").fill("jane@example.com")
    page.get_by_role("button", name="Send test").click()
    result = page.locator("[data-test-ok]")
    expect(result).to_be_visible()
    expect(result.locator("[data-outbox-text]")).to_contain_text("000000")
    expect(result.locator("[data-outbox-subject]")).not_to_be_empty()
    shoot(page, "email-outbox-test-sent")

    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-notice]")).to_have_text(
        "Saved. The Email connector sends the next email."
    )
    expect(page.locator("[data-email-connector]")).to_contain_text("Development email outbox")
    expect(page.locator("[data-active-connector]")).to_contain_text("Development outbox")
    expect(page.locator("[data-email-outbox]")).to_contain_text("jane@example.com")
    shoot(page, "connectors-sms-and-email")
    with api(site) as client:
        saved = sorted(c["connectorId"] for c in client.get("/t/mail/api/connectors").json())
    assert saved == ["outbox-email", "outbox-sms"]


def test_smtp_is_set_up_against_a_real_server_and_its_password_is_never_shown(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "smtp")
    use_outbox(site, "smtp")
    sign_in(site, page)
    switch_to(page, "smtp")
    with smtp_server(users={"mailer": PASSWORD}) as server:
        choose_email_provider(page, "simple-mail-transfer-protocol")
        auth = page.locator('textarea[name="cfg.auth"]')
        expect(auth).not_to_contain_text("<password>")  # the sample's secret is not shown
        page.locator('input[name="cfg.host"]').fill("127.0.0.1")
        page.locator('input[name="cfg.port"]').fill(str(server.port))
        auth.fill(json.dumps({"type": "login", "user": "mailer", "pass": PASSWORD}))
        page.locator('input[name="cfg.fromEmail"]').fill("Rocket <no-reply@example.com>")
        page.locator("#test_email").fill("jane@example.com")
        page.get_by_role("button", name="Send test").click()
        expect(page.locator("[data-test-ok]")).to_be_visible()
        [got] = server.received
        assert got.rcpt_tos == ["jane@example.com"]
        assert got.login == "mailer"
        assert "000000" in got.message.get_content()
        shoot(page, "smtp-test-sent")
        page.get_by_role("button", name="Save and done").click()
        expect(page.locator("[data-email-connector]")).to_contain_text("SMTP")
        expect(page.locator("[data-active-connector]")).to_contain_text("Development outbox")

        page.locator("[data-email-details]").click()
        saved_auth = json.loads(page.locator('textarea[name="cfg.auth"]').input_value())
        assert saved_auth == {"type": "login", "user": "mailer", "pass": "**********"}
        assert PASSWORD not in page.content()
        shoot(page, "smtp-details-password-masked")

        # Saved again as shown: the stored password stays.
        page.get_by_role("button", name="Save and done").click()
        expect(page.locator("[data-email-connector]")).to_contain_text("SMTP")
    with api(site) as client:
        [email] = [c for c in client.get("/t/smtp/api/connectors").json() if c["type"] == "Email"]
    assert email["config"]["auth"] == saved_auth  # masked by the API, and still there


def test_email_sign_in_without_an_email_connector_is_warned_about(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "warned")
    use_outbox(site, "warned")
    with api(site) as client:
        made = client.post("/t/warned/api/connectors", json={"connectorId": "outbox-email"})
        assert made.status_code == 200, made.text
        methods = [
            {"identifier": "phone", "password": False, "verificationCode": True},
            {"identifier": "email", "password": False, "verificationCode": True},
        ]
        changed = client.patch("/t/warned/api/sign-in-exp", json={"signIn": {"methods": methods}})
        assert changed.status_code == 200, changed.text
    sign_in(site, page)
    switch_to(page, "warned")
    expect(page.locator("[data-email-warning]")).to_have_count(0)

    page.locator("[data-email-details]").click()
    page.get_by_role("link", name="Delete").click()
    expect(page.locator("[data-dependents]")).to_contain_text(
        "Sign-in by email address and verification code"
    )
    shoot(page, "delete-email-connector-in-use")
    page.get_by_role("button", name="Delete anyway").click()

    warning = page.locator("[data-email-warning]")
    expect(warning).to_contain_text("End users cannot get codes by email.")
    expect(warning).to_contain_text("sign-in with a code by email")
    expect(page.locator("[data-sms-warning]")).to_have_count(0)
    expect(page.locator("[data-active-connector]")).to_contain_text("Development outbox")
    shoot(page, "email-sign-in-without-email-connector")
    page.goto(f"{site.url}/console/sign-in-experience")
    expect(page.locator("[data-email-warning]")).to_be_visible()  # on every page until fixed


def test_email_sign_up_set_in_the_console_is_warned_about_once_the_api_deletes_its_connector(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "walk")
    use_outbox(site, "walk")
    sign_in(site, page)
    switch_to(page, "walk")
    choose_email_provider(page, "outbox-email")
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-email-connector]")).to_contain_text("Development email outbox")

    page.locator("nav.sidenav").get_by_role("link", name="Sign-in experience").click()
    expect(page.locator("[data-needs-connector]")).to_have_count(0)  # both connectors exist
    page.locator("#sign_up_identifier").select_option("email")
    page.get_by_role("button", name="+ Add another").click()
    added = page.locator("fieldset.method").nth(1)
    added.get_by_label("Identifier").select_option("email")
    added.locator('input[name="method-1-code"]').check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved.")
    shoot(page, "sign-in-experience-email-sign-up")

    with api(site) as client:
        assert client.get("/t/walk/api/sign-in-exp").json()["signUp"]["identifiers"] == ["email"]
        [email] = [c for c in client.get("/t/walk/api/connectors").json() if c["type"] == "Email"]
        assert client.delete(f"/t/walk/api/connectors/{email['id']}").status_code == 204
    page.reload()
    warning = page.locator("[data-email-warning]")
    expect(warning).to_contain_text("End users cannot get codes by email.")
    expect(warning).to_contain_text("sign-up with an email address, sign-in with a code by email")
    expect(page.locator("[data-needs-connector]")).to_contain_text("no Email connector yet")
    expect(page.locator("#sign_up_identifier option:checked")).to_have_text(
        "Email address (needs an Email connector)"
    )
    shoot(page, "email-sign-up-without-email-connector")
    warning.get_by_role("link", name="Add an Email connector").click()
    expect(page.get_by_role("heading", name="Email and SMS connectors")).to_be_visible()
    expect(page.locator("[data-email-empty-state]")).to_contain_text("No Email connector yet")
    expect(page.locator("[data-email-warning]")).to_be_visible()
