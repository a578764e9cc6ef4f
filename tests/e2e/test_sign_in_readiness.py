"""A new tenant's first hour in Chromium: nothing switched on that cannot work, nothing raw.

Fresh tenant → the console warns on every page and the sign-in page says in words that sign-in
by text is not available → the admin sets up the outbox → the warning goes and sign-in by code
works → "Delete anyway" → the warning is back, and a page still open says the same sentence
instead of the connector's error. Each state is photographed to tests/artifacts/readiness-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsers import LAPTOP, laptop_page, screenshot
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_console import new_tenant, outbox, sign_in, switch_to
from tests.e2e.test_pages import enter_code, enter_phone, send_code

from phoneauth.web.pages import SMS_UNAVAILABLE

TENANT = "fresh"
RAW = ("connector", "Cannot find any available", "Sms")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("readiness"), "readiness-secret") as deployed:
        yield deployed


@pytest.fixture
def console(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


@pytest.fixture
def end_user(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"readiness-{name}")


def go(console: Page, name: str) -> None:
    """A page of the console's side navigation."""
    console.locator("nav.sidenav").get_by_role("link", name=name, exact=True).click()


def expect_no_raw_text(page: Page) -> None:
    text = page.locator("body").inner_text()
    for raw in RAW:
        assert raw not in text, text


def test_fresh_tenant_warning_set_up_sign_in_then_delete_anyway(
    site: Deployment, browser: Browser, console: Page, end_user: Page
) -> None:
    new_tenant(site, TENANT)
    sign_in(site, console)
    switch_to(console, TENANT)
    warning = console.locator("[data-sms-warning]")
    expect(warning).to_contain_text("End users cannot sign in yet.")
    for name in ("Sign-in experience", "Message log", "Tenants", "Connectors"):  # every page
        go(console, name)
        expect(warning).to_be_visible()
    shoot(console, "1-warning")

    sign_in_page = f"{site.url}/t/{TENANT}/sign-in"
    end_user.goto(sign_in_page)
    expect(end_user.get_by_role("heading", name="Sign-in is not available")).to_be_visible()
    expect(end_user.get_by_text(SMS_UNAVAILABLE)).to_be_visible()
    expect_no_raw_text(end_user)
    shoot(end_user, "2-sign-in-unavailable")

    # The warning's own link leads to the set-up; the outbox is saved.
    warning.get_by_role("link", name="Add an SMS connector").click()
    console.locator("[data-empty-state]").get_by_role("link", name="Set up").click()
    console.locator('[data-provider="outbox-sms"]').click()
    console.get_by_role("button", name="Save and done").click()
    expect(console.locator("[data-active-connector]")).to_contain_text("Development outbox")
    expect(warning).to_have_count(0)
    go(console, "Sign-in experience")
    expect(console.locator("#sign_up_identifier")).to_have_value("phone")
    expect(warning).to_have_count(0)
    shoot(console, "3-connector-saved")

    # Sign-in by code works now: a new number registers with the code from the outbox.
    end_user.goto(sign_in_page)
    end_user.locator("#country").select_option("DE")
    enter_phone(end_user, "015144445555", "01514 4445555")
    send_code(end_user)
    code = next(m["code"] for m in outbox(site, TENANT) if m["to"] == "+4915144445555")
    enter_code(end_user, code)
    end_user.get_by_role("button", name="Create account").click()
    expect(end_user.locator("[data-account-phone]")).to_have_text("+49 1514 4445555")
    shoot(end_user, "4-signed-in")

    # A visitor opens the sign-in page; meanwhile the admin deletes the connector anyway.
    visitor = browser.new_context(locale="en-US", viewport=LAPTOP).new_page()
    visitor.goto(sign_in_page)
    go(console, "Connectors")
    console.get_by_role("link", name="Details").click()
    console.get_by_role("link", name="Delete").click()
    console.get_by_role("button", name="Delete anyway").click()
    expect(console.locator("[data-notice]")).to_have_text("The connector was deleted.")
    expect(warning).to_contain_text("End users cannot sign in yet.")
    shoot(console, "5-warning-back")

    # The page still open asks for a code: the API answers connector.not_found, the page says
    # the sentence.
    visitor.locator("#country").select_option("DE")
    enter_phone(visitor, "015155556666", "01515 5556666")
    visitor.get_by_role("button", name="Send code").click()
    error = visitor.locator("[data-error]")
    expect(error).to_have_text(SMS_UNAVAILABLE)
    expect_no_raw_text(visitor)
    shoot(visitor, "6-send-code-unavailable")
    visitor.reload()
    expect(visitor.get_by_text(SMS_UNAVAILABLE)).to_be_visible()
    visitor.context.close()
