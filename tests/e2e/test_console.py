"""The console in a real browser: Debian's headless Chromium, driven by Playwright.

phoneauth runs under uvicorn on an SQLite file, as in test_pages.py. Each test works in its own
tenant, chosen with the console's tenant switcher, so the tests do not depend on each other's
order. Every page is photographed to tests/artifacts/console-*.png (gitignored).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests import local_http
from tests.e2e.browsers import PHONE_SCREEN, laptop_page, screenshot
from tests.e2e.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SERVICE_SID,
    Deployment,
    FakeTwilio,
    deploy_on_sqlite,
)
from tests.e2e.test_pages import (
    enter_code,
    enter_phone,
    send_code,
)

from phoneauth.domain.console_admins import CsrfError
from phoneauth.domain.console_setup import SetupTokens
from phoneauth.storage.database import open_database
from phoneauth.storage.repositories.console import SqlConsoleAdminStore

USERNAME = "operator"
PASSWORD = "console password 1"
SETUP_TOKEN_WRONG = (
    "The setup token is missing or wrong. Copy it from the server's output of its first start, "
    "or print a new one on the server with `phoneauth admin setup-token`."
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("console"), "console-test-secret") as deployed:
        yield deployed


@pytest.fixture
def fresh_site(tmp_path: Path) -> Iterator[Deployment]:
    """A site no test has visited: no console admin yet, whichever tests ran before."""
    with deploy_on_sqlite(tmp_path, "console-test-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


# --- helpers -----------------------------------------------------------------------------------


def api(site: Deployment) -> httpx.Client:
    return local_http.client(base_url=site.url, headers=site.auth, timeout=60)


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"console-{name}")


def setup_token(site: Deployment) -> str:
    """A fresh setup token on the site's database, as `phoneauth admin setup-token` makes one
    (in a thread of its own: Playwright's loop owns this one)."""
    settings = site.services.settings

    async def issue() -> str:
        database = open_database(settings.resolved_database_url, schema=settings.database_schema)
        try:
            return await SetupTokens(SqlConsoleAdminStore(database)).issue()
        finally:
            await database.dispose()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, issue()).result(timeout=30)


def sign_in(site: Deployment, page: Page) -> None:
    """Into the console; the first caller creates the admin account."""
    page.goto(f"{site.url}/console")
    if page.get_by_role("heading", name="Create the admin account").is_visible():
        create_admin(page, setup_token(site))
        return
    page.locator("#username").fill(USERNAME)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Email and SMS connectors")).to_be_visible()


def create_admin(page: Page, token: str) -> None:
    page.locator("#setup_token").fill(token)
    page.locator("#username").fill(USERNAME)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_again").fill(PASSWORD)
    page.get_by_role("button", name="Create the admin account").click()
    expect(page.get_by_role("heading", name="Email and SMS connectors")).to_be_visible()


def new_tenant(site: Deployment, tenant_id: str, kind: str = "development") -> None:
    with api(site) as client:
        made = client.post("/api/tenants", json={"id": tenant_id, "name": tenant_id, "kind": kind})
        assert made.status_code == 201, made.text


def use_outbox(site: Deployment, tenant_id: str) -> None:
    with api(site) as client:
        made = client.post(f"/t/{tenant_id}/api/connectors", json={"connectorId": "outbox-sms"})
        assert made.status_code == 200, made.text


def switch_to(page: Page, tenant_id: str) -> None:
    """The header's tenant switcher (its select submits itself)."""
    page.locator("#tenant-select").select_option(tenant_id)
    expect(page.locator(".tenant-line")).to_have_attribute("data-tenant", tenant_id)


def outbox(site: Deployment, tenant_id: str) -> list[dict[str, Any]]:
    with api(site) as client:
        messages: list[dict[str, Any]] = client.get(f"/t/{tenant_id}/api/outbox").json()
    return messages


# --- the flows ---------------------------------------------------------------------------------


def test_first_visit_needs_the_setup_token_then_sign_in_and_out(
    fresh_site: Deployment, browser: Browser, page: Page
) -> None:
    site = fresh_site
    page.goto(f"{site.url}/console/connectors")
    expect(page).to_have_url(f"{site.url}/console/setup")
    expect(page.get_by_role("heading", name="Create the admin account")).to_be_visible()
    token = setup_token(site)
    page.locator("#username").fill(USERNAME)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_again").fill(PASSWORD)
    page.get_by_role("button", name="Create the admin account").click()
    expect(page.locator('[data-field-error="setup_token"]')).to_have_text(SETUP_TOKEN_WRONG)
    page.locator("#setup_token").fill(token[:-2])
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_again").fill(PASSWORD)
    page.get_by_role("button", name="Create the admin account").click()
    expect(page.locator('[data-field-error="setup_token"]')).to_have_text(SETUP_TOKEN_WRONG)
    expect(page.locator("#setup_token")).to_have_value("")  # a wrong token is not kept
    page.locator("#setup_token").fill(token)
    page.locator("#password").fill("short")
    page.locator("#password_again").fill("short")
    page.get_by_role("button", name="Create the admin account").click()
    expect(page.locator('[data-field-error="password"]')).to_have_text("Use 8 to 256 characters.")
    expect(page.locator("#setup_token")).to_have_value(token)  # still valid: kept
    shoot(page, "setup")
    create_admin(page, token)
    cookie = next(c for c in page.context.cookies() if c["name"] == "phoneauth_console")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    shoot(page, "connectors-empty")

    # The admin exists now: the setup page only leads to sign-in.
    other = browser.new_context(viewport=PHONE_SCREEN).new_page()
    other.goto(f"{site.url}/console/setup")
    expect(other).to_have_url(f"{site.url}/console/sign-in")
    other.locator("#username").fill(USERNAME)
    other.locator("#password").fill("wrong password")
    other.get_by_role("button", name="Sign in").click()
    expect(other.locator("[data-error]")).to_have_text("The username or password is wrong.")
    shoot(other, "sign-in-phone-screen")
    other.context.close()

    # A form without this session's CSRF token is refused with a page in words.
    with local_http.client(
        base_url=site.url, cookies={cookie["name"]: cookie["value"]}, timeout=60
    ) as client:
        forged = client.post("/console/tenants", data={"id": "evil", "name": "Evil"})
    assert forged.status_code == 403
    assert CsrfError().message.split(":")[0] in forged.text
    assert "Traceback" not in forged.text

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/console/sign-in")
    page.goto(f"{site.url}/console/tenants")
    expect(page).to_have_url(f"{site.url}/console/sign-in")
    shoot(page, "sign-in")


def test_set_up_the_outbox_test_send_shows_the_code_then_save(site: Deployment, page: Page) -> None:
    new_tenant(site, "setup")
    sign_in(site, page)
    switch_to(page, "setup")
    expect(page.locator("[data-empty-state]")).to_be_visible()
    page.locator("[data-empty-state]").get_by_role("link", name="Set up").click()
    expect(page.get_by_role("heading", name="Set up the SMS connector")).to_be_visible()
    expect(page.locator("[data-provider]")).to_have_count(9)  # 8 built-ins + the example plugin
    shoot(page, "choose-provider")
    page.locator('[data-provider="outbox-sms"]').click()

    expect(page.get_by_role("heading", name="Development outbox", exact=True)).to_be_visible()
    expect(page.locator(".readme")).to_contain_text("The outbox sends nothing.")
    templates = page.locator('textarea[name="cfg.templates"]')
    expect(templates).to_contain_text('"usageType": "Generic"')
    expect(page.locator(".usage-types")).to_contain_text("MfaVerification")
    templates.fill('[{"usageType": "Generic", "content": "Code {{code}} for Rocket"')
    expect(page.locator("[data-json-status]")).to_contain_text("Not valid JSON")
    templates.fill('[{"usageType": "Generic", "content": "Code {{code}} for Rocket"}]')
    expect(page.locator("[data-json-status]")).to_have_text(
        "1 template, as the connector expects them."
    )

    page.locator("#test_phone").fill("+4915112345678")
    page.get_by_role("button", name="Send test").click()
    result = page.locator("[data-test-ok]")
    expect(result).to_contain_text("Sent. Provider message id: outbox-")
    expect(result.locator("[data-outbox-text]")).to_have_text("Code 000000 for Rocket")
    assert outbox(site, "setup")[0]["code"] == "000000"
    shoot(page, "setup-outbox-tested")

    # A test to a number that is not one is answered in words, not saved.
    page.locator("#test_phone").fill("12")
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("[data-test-error]")).to_contain_text("because of the phone number")
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-notice]")).to_have_text("Saved. The connector sends the next code.")
    expect(page.locator("[data-active-connector]")).to_contain_text("Development outbox")
    expect(page.locator("[data-outbox]")).to_contain_text("Code 000000 for Rocket")
    shoot(page, "connectors-outbox")


def test_invalid_fields_come_back_inline_and_secrets_are_never_echoed(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "fields")
    sign_in(site, page)
    switch_to(page, "fields")
    page.goto(f"{site.url}/console/connectors/new/twilio-short-message-service")
    page.locator('input[name="cfg.authToken"]').fill("typed-secret-value")
    page.locator('input[name="cfg.endpoint"]').fill("not a url")
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator('[data-field="accountSID"] [data-field-error]')).to_have_text(
        "This field is required."
    )
    expect(page.locator('[data-field="endpoint"] [data-field-error]')).to_be_visible()
    expect(page.locator("[data-error]")).to_have_text("Some fields need your attention.")
    assert "typed-secret-value" not in page.content()
    expect(page.locator('input[name="cfg.authToken"]')).to_have_value("")
    shoot(page, "setup-twilio-invalid")


def test_change_connector_to_twilio_then_delete_guard(
    site: Deployment, page: Page, twilio: FakeTwilio
) -> None:
    new_tenant(site, "change")
    use_outbox(site, "change")
    sign_in(site, page)
    switch_to(page, "change")
    page.get_by_role("link", name="Change connector").click()
    expect(page.get_by_role("heading", name="Change connector")).to_be_visible()
    page.locator('[data-provider="twilio-short-message-service"]').click()
    page.locator('input[name="cfg.accountSID"]').fill(ACCOUNT_SID)
    page.locator('input[name="cfg.authToken"]').fill("wrong-token")
    page.locator('input[name="cfg.fromMessagingServiceSID"]').fill(SERVICE_SID)
    page.locator('input[name="cfg.endpoint"]').fill(twilio.url)
    page.locator("#test_phone").fill("+4915112345678")
    page.get_by_role("button", name="Send test").click()
    refused = page.locator("[data-test-error]")
    expect(refused).to_contain_text("The SMS provider refused the connector's credentials.")
    expect(refused).to_contain_text("Provider said: 20003, Authenticate")
    expect(refused).to_contain_text("connector.authorization_failed")  # the code, to look up
    shoot(page, "setup-twilio-test-error")

    page.locator('input[name="cfg.authToken"]').fill(AUTH_TOKEN)
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("[data-test-ok]")).to_be_visible()
    sent = twilio.messages[-1]
    expect(page.locator("[data-message-id]")).to_have_text(sent.sid)
    assert sent.code == "000000"
    shoot(page, "setup-twilio-tested")
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-active-connector]")).to_contain_text("Twilio")

    # The swap is effective at once: the next code goes to Twilio, and the log says so.
    with api(site) as client:
        asked = client.post("/t/change/api/verification-codes", json={"phone": "+4915122223333"})
        assert asked.status_code == 204, asked.text
    assert twilio.messages[-1].to == "+4915122223333"
    page.reload()
    expect(page.locator("[data-active-connector]")).to_contain_text(
        "Last send: sent to +4915*****3333"
    )
    shoot(page, "connectors-twilio")
    page.get_by_role("link", name="Message log").click()
    expect(page.locator("[data-message-log]")).to_contain_text(twilio.messages[-1].sid)
    shoot(page, "message-log")
    page.locator("#status").select_option("failed")
    # The only failure is the test send with the wrong token, logged and labelled as such.
    failed = page.locator("[data-message-log] tbody tr")
    expect(failed).to_have_count(1)
    expect(failed.first).to_contain_text("Connector test send")
    expect(failed.first).to_contain_text("connector.authorization_failed")

    # Details keep the secret without showing it; saving an edit keeps it.
    page.get_by_role("link", name="Connectors").click()
    page.get_by_role("link", name="Details").click()
    token = page.locator('input[name="cfg.authToken"]')
    expect(token).to_have_value("")
    expect(token).to_have_attribute("placeholder", "Saved; leave empty to keep it")
    assert AUTH_TOKEN not in page.content()
    shoot(page, "connector-details")
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-notice]")).to_be_visible()
    with api(site) as client:
        assert client.post(
            "/t/change/api/verification-codes", json={"phone": "+4915122223333"}
        ).status_code in (204, 429)

    # The delete guard names, in words, the sign-in settings that need the connector.
    page.get_by_role("link", name="Details").click()
    page.get_by_role("link", name="Delete").click()
    dependents = page.locator("[data-dependents]")
    expect(dependents).to_contain_text("Sign-up asks for a phone number")
    expect(dependents).to_contain_text("Sign-in by phone number and verification code")
    shoot(page, "connector-delete-guard")
    page.get_by_role("button", name="Delete anyway").click()
    expect(page.locator("[data-notice]")).to_have_text("The connector was deleted.")
    expect(page.locator("[data-empty-state]")).to_be_visible()


def test_sign_in_experience_change_then_sign_in_on_the_live_preview(
    site: Deployment, browser: Browser, page: Page
) -> None:
    new_tenant(site, "sie")
    use_outbox(site, "sie")
    sign_in(site, page)
    switch_to(page, "sie")
    page.get_by_role("link", name="Sign-in experience").click()
    expect(page.locator("#sign_up_identifier")).to_have_value("phone")

    # A rule broken is said in words and nothing is saved.
    page.locator('input[name="method-0-code"]').uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("[data-error]")).to_contain_text("authentication factor")
    shoot(page, "sign-in-experience-rule-error")

    page.get_by_role("button", name="+ Add another").click()
    expect(page.locator("fieldset.method")).to_have_count(2)
    page.locator("fieldset.method").nth(1).get_by_role("button", name="Remove").click()
    expect(page.locator("fieldset.method")).to_have_count(1)
    page.locator('input[name="method-0-code"]').check()
    page.locator('input[name="method-0-password"]').check()
    page.locator('input[name="sign_up_password"]').check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("[data-notice]")).to_contain_text("Saved.")
    shoot(page, "sign-in-experience")
    with api(site) as client:
        document = client.get("/t/sie/api/sign-in-exp").json()
    assert document["signUp"]["password"] is True
    assert document["signIn"]["methods"][0]["password"] is True

    preview = page.locator("[data-live-preview]")
    expect(preview).to_have_attribute("href", "/t/sie/sign-in")
    with page.context.expect_page() as opened:
        preview.click()
    live = opened.value
    expect(live.get_by_role("button", name="Sign in with a password instead")).to_be_visible()
    live.locator("#country").select_option("DE")
    enter_phone(live, "015133334444", "01513 3334444")
    send_code(live)
    code = next(m["code"] for m in outbox(site, "sie") if m["to"] == "+4915133334444")
    enter_code(live, code)
    live.get_by_role("button", name="Create account").click()
    expect(live.locator('form[data-step="password"]')).to_be_visible()
    live.locator("#new-password").fill("live preview password")
    live.locator("#confirm-password").fill("live preview password")
    live.locator('form[data-step="password"] button[type="submit"]').click()
    expect(live.locator("[data-account-phone]")).to_have_text("+49 1513 3334444")


def test_tenant_migration_shows_the_diff_then_applies(
    site: Deployment, page: Page, twilio: FakeTwilio
) -> None:
    sign_in(site, page)
    page.get_by_role("link", name="Tenants").click()
    page.locator("#tenant-id").fill("shop-dev")
    page.locator("#tenant-name").fill("Shop (dev)")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("[data-notice]")).to_contain_text("Tenant created")
    expect(page.locator(".tenant-line")).to_contain_text("Shop (dev)")
    page.locator("#tenant-id").fill("shop")
    page.locator("#tenant-name").fill("Shop")
    page.locator("#tenant-kind").select_option("production")
    page.get_by_role("button", name="Create tenant").click()
    page.locator("#tenant-id").fill("shop")
    page.locator("#tenant-name").fill("Again")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("[data-error]")).to_have_text("A tenant with id shop exists already.")
    shoot(page, "tenants")

    # The dev tenant on the outbox: production refuses it, in words.
    use_outbox(site, "shop-dev")
    page.get_by_role("link", name="Migrate configuration").click()
    page.locator("#source").select_option("shop-dev")
    page.locator("#target").select_option("shop")
    page.get_by_role("button", name="Show changes").click()
    expect(page.locator("[data-error]")).to_contain_text("for development tenants only")
    shoot(page, "migrate-refused")

    with api(site) as client:
        config = {
            "accountSID": ACCOUNT_SID,
            "authToken": AUTH_TOKEN,
            "fromMessagingServiceSID": SERVICE_SID,
            "endpoint": twilio.url,
            "templates": [{"usageType": "Generic", "content": "Shop code {{code}}"}],
        }
        made = client.post(
            "/t/shop-dev/api/connectors",
            json={"connectorId": "twilio-short-message-service", "config": config},
        )
        assert made.status_code == 200, made.text
    page.locator('input[name="include_secrets"]').check()
    page.get_by_role("button", name="Show changes").click()
    diff = page.locator("[data-diff]")
    connector_id = diff.locator('[data-change="connector"] [data-field-row="connectorId"]')
    expect(connector_id.locator(".after")).to_have_text('"twilio-short-message-service"')
    expect(diff.locator('[data-change="connector.templates.Generic"]')).to_contain_text("content")
    assert AUTH_TOKEN not in page.content()
    shoot(page, "migrate-diff")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-notice]")).to_contain_text("Migrated")
    switch_to(page, "shop")
    page.get_by_role("link", name="Connectors").click()
    expect(page.locator("[data-active-connector]")).to_contain_text("Twilio")
    with api(site) as client:
        asked = client.post("/t/shop/api/verification-codes", json={"phone": "+4915144445555"})
        assert asked.status_code == 204, asked.text
    assert re.fullmatch(r"Shop code \d{6}", twilio.messages[-1].body)


def test_delivery_standby_connector_and_fallback_take_over(
    site: Deployment, page: Page, twilio: FakeTwilio
) -> None:
    """An operator adds a standby Twilio and names it in the fallback order; with the active
    provider unreachable, the next code goes out through the standby, and the pages say so."""
    new_tenant(site, "delivery")
    unreachable = {
        "accountSID": ACCOUNT_SID,
        "authToken": AUTH_TOKEN,
        "fromMessagingServiceSID": SERVICE_SID,
        "endpoint": "http://127.0.0.1:9",
        "templates": [{"usageType": "Generic", "content": "Your code is {{code}}."}],
    }
    with api(site) as client:
        made = client.post(
            "/t/delivery/api/connectors",
            json={"connectorId": "twilio-short-message-service", "config": unreachable},
        )
        assert made.status_code == 200, made.text
    sign_in(site, page)
    switch_to(page, "delivery")
    page.get_by_role("link", name="Delivery").click()
    expect(page.get_by_role("heading", name="Delivery", exact=True)).to_be_visible()
    expect(page.locator("[data-standby]")).to_contain_text("No standby connector yet.")
    shoot(page, "delivery-empty")

    page.locator("[data-add-standby]").click()
    page.locator('[data-provider="twilio-short-message-service"]').click()
    page.locator('input[name="cfg.accountSID"]').fill(ACCOUNT_SID)
    page.locator('input[name="cfg.authToken"]').fill(AUTH_TOKEN)
    page.locator('input[name="cfg.fromMessagingServiceSID"]').fill(SERVICE_SID)
    page.locator('input[name="cfg.endpoint"]').fill(twilio.url)
    page.locator("[data-add]").click()
    expect(page.locator("[data-standby-connector]")).to_have_count(1)
    expect(page.locator("[data-standby]")).to_contain_text("Twilio (standby 1)")
    assert AUTH_TOKEN not in page.content()

    page.locator('[data-fallback] select[name="fallback"]').first.select_option(
        label="Twilio (standby 1)"
    )
    page.locator("[data-save-rules]").click()
    with api(site) as client:
        rules = client.get("/t/delivery/api/sms-routing").json()
        [standby] = rules["standbyConnectors"]
        assert rules["fallback"] == [standby["id"]]
        sent = client.post("/t/delivery/api/verification-codes", json={"phone": "+4915133334444"})
        assert sent.status_code == 204, sent.text
        assert sent.headers["Phoneauth-Sms-Connector"] == standby["id"]
    assert twilio.messages[-1].to == "+4915133334444"

    page.reload()
    circuits = page.locator("[data-circuits]")
    expect(circuits).to_contain_text("The active connector")
    expect(circuits).to_contain_text("Working; the last send through it failed.")
    expect(circuits).to_contain_text("Twilio (standby 1)")
    shoot(page, "delivery-failover")
    page.get_by_role("link", name="Message log").click()
    rows = page.locator("[data-message-log] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("[data-attempt]")).to_have_text(
        "Attempt 2 of this send, after a failure"
    )
    expect(page.locator("[data-message-log]")).to_contain_text(twilio.messages[-1].sid)
    shoot(page, "message-log-failover")


def test_protection_shows_a_paused_country_and_resumes_it(site: Deployment, page: Page) -> None:
    """A country paused over the API reads, in words, why on Protection; Resume reopens it."""
    new_tenant(site, "protection")
    with api(site) as client:
        paused = client.post(
            "/t/protection/api/sms-protection/suspensions/LV",
            json={"details": "Codes to Latvia are never typed."},
        )
        assert paused.status_code == 200, paused.text
    sign_in(site, page)
    switch_to(page, "protection")
    page.get_by_role("link", name="Protection").click()
    expect(page.get_by_role("heading", name="Protection", exact=True)).to_be_visible()
    row = page.locator('[data-suspended-country="LV"]')
    expect(row).to_contain_text("Latvia (LV)")
    expect(row).to_contain_text("Paused by an admin: Codes to Latvia are never typed.")
    expect(row).to_contain_text("Until you resume it")
    shoot(page, "protection-paused")
    page.locator('[data-resume="LV"]').click()
    expect(page.locator("[data-notice]")).to_contain_text("Sending to this country is resumed")
    expect(page.locator("[data-suspended]")).to_contain_text("No country is paused")
    with api(site) as client:
        assert client.get("/t/protection/api/sms-protection").json()["suspendedCountries"] == []


def test_every_page_reads_on_a_phone(site: Deployment, browser: Browser) -> None:
    context = browser.new_context(viewport=PHONE_SCREEN)
    page = context.new_page()
    sign_in(site, page)
    for name, path in (
        ("connectors", "/console/connectors"),
        ("choose-provider", "/console/connectors/new"),
        ("setup-twilio", "/console/connectors/new/twilio-short-message-service"),
        ("sign-in-experience", "/console/sign-in-experience"),
        ("message-log", "/console/message-log"),
        ("delivery", "/console/delivery"),
        ("add-standby", "/console/delivery/new"),
        ("protection", "/console/protection"),
        ("tenants", "/console/tenants"),
        ("migrate", "/console/tenants/migrate"),
    ):
        page.goto(f"{site.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_SCREEN["width"], f"{path} scrolls sideways ({width}px)"
        shoot(page, f"{name}-phone")
    page.goto(f"{site.url}/console/no-such-page")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    shoot(page, "not-found-phone")
    context.close()
