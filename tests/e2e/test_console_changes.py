"""The console's change flows in Chromium: migrating a tenant's configuration, changing the SMS
connector, and the template editor's checks as one types.

A server of its own on an SQLite file (the helpers are test_console.py's); every step that a
person looks at is photographed to tests/artifacts/console-*.png.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsers import PHONE_SCREEN, laptop_page
from tests.e2e.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SERVICE_SID,
    Deployment,
    FakeTwilio,
    deploy_on_sqlite,
)
from tests.e2e.test_console import api, new_tenant, shoot, sign_in, switch_to

TWILIO = "twilio-short-message-service"
ROCKET = [
    {"usageType": "Generic", "content": "Your Rocket code is {{code}}"},
    {"usageType": "SignIn", "content": "Sign in to Rocket with {{code}}"},
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("changes"), "console-changes-secret") as site:
        yield site


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


def twilio_config(twilio: FakeTwilio, text: str) -> dict[str, object]:
    return {
        "accountSID": ACCOUNT_SID,
        "authToken": AUTH_TOKEN,
        "fromMessagingServiceSID": SERVICE_SID,
        "endpoint": twilio.url,
        "templates": [{"usageType": "Generic", "content": text}],
    }


def save_connector(site: Deployment, tenant_id: str, factory_id: str, config: object) -> None:
    with api(site) as client:
        made = client.post(
            f"/t/{tenant_id}/api/connectors", json={"connectorId": factory_id, "config": config}
        )
        assert made.status_code == 200, made.text


def test_migration_starts_from_the_tenant_in_view_and_applies_only_what_was_previewed(
    site: Deployment, page: Page, twilio: FakeTwilio
) -> None:
    new_tenant(site, "mig-dev")
    new_tenant(site, "mig-prod", "production")
    new_tenant(site, "mig-other")
    save_connector(site, "mig-dev", TWILIO, twilio_config(twilio, "Shop code {{code}}"))
    with api(site) as client:
        sign_up = {"identifiers": ["phone"], "password": True, "verify": True}
        changed = client.patch("/t/mig-dev/api/sign-in-exp", json={"signUp": sign_up})
        assert changed.status_code == 200, changed.text
    sign_in(site, page)
    switch_to(page, "mig-dev")
    page.goto(f"{site.url}/console/tenants/migrate")
    expect(page.locator("#source")).to_have_value("mig-dev")
    page.locator("#target").select_option("mig-prod")
    page.locator('input[name="include_secrets"]').check()
    page.get_by_role("button", name="Show changes").click()

    # Field by field: signUp's changed flags are highlighted, the unchanged ones are not.
    sign_up_rows = page.locator('[data-change="signInExperience.signUp"]')
    expect(sign_up_rows.locator('tr[data-field-row="password"]')).to_have_class("changed")
    expect(sign_up_rows.locator('tr[data-field-row="password"] .after')).to_have_text("true")
    expect(sign_up_rows.locator('tr[data-field-row="verify"]')).to_have_class("same")
    template = page.locator('[data-change="connector.templates.Generic"]')
    expect(template.locator('tr[data-field-row="content"] .after')).to_have_text(
        '"Shop code {{code}}"'
    )
    assert AUTH_TOKEN not in page.content()
    shoot(page, "migrate-field-by-field")

    # Another target after the preview: Apply waits for a preview of that pair.
    page.locator("#target").select_option("mig-other")
    expect(page.locator("[data-apply]")).to_be_disabled()
    expect(page.locator("[data-stale-note]")).to_be_visible()
    shoot(page, "migrate-selection-changed")
    page.locator("#target").select_option("mig-prod")
    expect(page.locator("[data-apply]")).to_be_enabled()

    # The source changes between the preview and the click: refused in words, the new diff shown.
    save_connector(site, "mig-dev", TWILIO, twilio_config(twilio, "Changed code {{code}}"))
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-error]")).to_contain_text(
        "The configuration of mig-dev changed since the preview, so nothing was applied."
    )
    expect(template.locator('tr[data-field-row="content"] .after')).to_have_text(
        '"Changed code {{code}}"'
    )
    shoot(page, "migrate-source-changed")
    with api(site) as client:
        assert client.get("/t/mig-prod/api/connectors").json() == []

    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-notice]")).to_contain_text("Migrated")
    with api(site) as client:
        [connector] = client.get("/t/mig-prod/api/connectors").json()
    assert connector["config"]["templates"][0]["content"] == "Changed code {{code}}"


def test_change_connector_shows_what_is_replaced_and_keeps_the_templates(
    site: Deployment, page: Page, twilio: FakeTwilio
) -> None:
    new_tenant(site, "keep")
    save_connector(site, "keep", "outbox-sms", {"templates": ROCKET})
    sign_in(site, page)
    switch_to(page, "keep")
    page.get_by_role("link", name="Change connector").click()
    page.locator('[data-provider="aliyun-short-message-service"]').click()
    replacing = page.locator("[data-replacing]")
    expect(replacing).to_contain_text("Saving replaces Development outbox")
    expect(replacing.locator("[data-replaced-templates]")).to_contain_text("Sign in to Rocket")
    expect(replacing.locator("[data-keep-templates]")).to_have_count(0)
    expect(replacing.locator("[data-keep-reason]")).to_contain_text(
        "your message texts cannot be kept"
    )
    shoot(page, "change-to-aliyun-templates-replaced")

    page.goto(f"{site.url}/console/connectors/new/{TWILIO}")
    keep = page.get_by_label("Keep my current templates")
    expect(keep).to_be_checked()
    editor = page.locator('textarea[name="cfg.templates"]')
    expect(editor).to_be_disabled()
    expect(editor).to_have_value(json.dumps(ROCKET, indent=2))  # what will be saved
    expect(page.locator("[data-kept-note]")).to_be_visible()
    shoot(page, "change-to-twilio-keep-templates")
    keep.uncheck()
    expect(editor).to_be_enabled()
    expect(editor).to_contain_text('"usageType": "ForgotPassword"')  # Twilio's own defaults
    keep.check()

    page.locator('input[name="cfg.accountSID"]').fill(ACCOUNT_SID)
    page.locator('input[name="cfg.authToken"]').fill(AUTH_TOKEN)
    page.locator('input[name="cfg.fromMessagingServiceSID"]').fill(SERVICE_SID)
    page.locator('input[name="cfg.endpoint"]').fill(twilio.url)
    page.locator("#test_phone").fill("+4915112345678")
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("[data-test-ok]")).to_be_visible()
    assert twilio.messages[-1].body == "Your Rocket code is 000000"  # the kept Generic
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-active-connector]")).to_contain_text("Twilio")
    with api(site) as client:
        [connector] = client.get("/t/keep/api/connectors").json()
        assert connector["config"]["templates"] == ROCKET
        asked = client.post("/t/keep/api/verification-codes", json={"phone": "+4915122223333"})
        assert asked.status_code == 204, asked.text
    assert "Rocket" in twilio.messages[-1].body  # a kept template, not Twilio's default


def test_the_template_editor_checks_the_rules_as_one_types(site: Deployment, page: Page) -> None:
    new_tenant(site, "editor")
    sign_in(site, page)
    switch_to(page, "editor")
    page.goto(f"{site.url}/console/connectors/new/{TWILIO}")
    editor = page.locator('textarea[name="cfg.templates"]')
    status = page.locator("[data-json-status]")
    problems = status.locator("[data-template-problems] li")
    expect(page.locator("[data-template-help]")).to_have_count(1)
    expect(page.get_by_text("is the fallback", exact=False)).to_have_count(1)

    typed = [
        {"usageType": "Signin", "content": "Code {{code}}"},
        {"usageType": "Generic"},
        {"usageType": "Generic", "content": "Again {{code}}", "contnet": "typo"},
    ]
    editor.fill(json.dumps(typed, indent=2))
    expect(problems).to_have_count(4)
    expect(problems.nth(0)).to_contain_text(
        'Template 1 (Signin): usageType "Signin" is unknown; use one of SignIn, Register'
    )
    expect(status).to_contain_text("Template 2 (Generic): content is missing.")
    expect(status).to_contain_text("Template 3 (Generic): contnet is not a field here")
    expect(status).to_contain_text("Two templates for usage type Generic: keep one.")
    expect(editor).to_have_attribute("aria-invalid", "true")
    shoot(page, "template-editor-problems")

    editor.fill(json.dumps([{"usageType": "Generic", "content": ""}]))
    expect(status).to_have_text("Template 1 (Generic): content must not be empty.")
    editor.fill(json.dumps(ROCKET, indent=2))
    expect(status).to_have_text("2 templates, as the connector expects them.")
    expect(editor).to_have_attribute("aria-invalid", "false")

    # Aliyun: template codes, a hint of their own, no made-up code and no {{code}}.
    page.goto(f"{site.url}/console/connectors/new/aliyun-short-message-service")
    editor = page.locator('textarea[name="cfg.templates"]')
    expect(editor).to_have_value("")
    expect(editor).to_have_attribute("placeholder", re.compile("templateCode"))
    help_box = page.locator('[data-template-help="code"]')
    expect(help_box).to_contain_text("passes the verification code to it as a parameter")
    expect(help_box).not_to_contain_text("{{code}}")
    editor.fill(json.dumps([{"usageType": "Generic", "content": "Code {{code}}"}]))
    expect(status).to_contain_text("Template 1 (Generic): templateCode is missing.")
    expect(status).to_contain_text("Template 1 (Generic): content is not a field here")
    editor.fill(
        json.dumps([{"usageType": "Generic", "templateCode": {"china": "SMS_1", "overseas": ""}}])
    )
    expect(status).to_contain_text("templateCode.overseas must not be empty.")
    shoot(page, "template-editor-aliyun")
    editor.fill(json.dumps([{"usageType": "Generic", "templateCode": "SMS_15305"}]))
    expect(status).to_have_text("1 template, as the connector expects them.")


def test_the_new_panels_read_on_a_phone(site: Deployment, browser: Browser) -> None:
    new_tenant(site, "narrow")
    new_tenant(site, "narrow-prod", "production")
    config = {
        "accountSID": ACCOUNT_SID,
        "authToken": AUTH_TOKEN,
        "fromMessagingServiceSID": SERVICE_SID,
        "templates": ROCKET,
    }
    save_connector(site, "narrow", TWILIO, config)
    context = browser.new_context(viewport=PHONE_SCREEN)
    try:
        page = context.new_page()
        sign_in(site, page)
        switch_to(page, "narrow")
        page.goto(f"{site.url}/console/connectors/new/{TWILIO}")
        expect(page.locator("[data-replacing]")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
        shoot(page, "change-connector-phone")
        page.goto(f"{site.url}/console/tenants/migrate")
        page.locator("#target").select_option("narrow-prod")
        page.locator('input[name="include_secrets"]').check()
        page.get_by_role("button", name="Show changes").click()
        expect(page.locator("[data-diff]")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
        shoot(page, "migrate-diff-phone")
    finally:
        context.close()
