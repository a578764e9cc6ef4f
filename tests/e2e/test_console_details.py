"""Smaller console behaviours in a real browser (issue 12): the test-send country picker, the form
error summaries, the message log's filters and width, the embedded sign-in preview.

Own module-scoped server and admin, as test_console.py; screenshots go to
tests/artifacts/console-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.e2e.browsers import laptop_page
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_console import (
    new_tenant,
    outbox,
    setup_token,
    shoot,
    sign_in,
    switch_to,
)

from phoneauth.domain.console_admins import InvalidUsernameError
from phoneauth.domain.console_setup import InvalidSetupTokenError


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("details"), "console-details-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


def top(element: Locator) -> float:
    """Where an element starts on the page, to check what is above what."""
    box = element.bounding_box()
    assert box is not None
    return box["y"]


def test_test_send_takes_a_local_number_with_the_country_picked(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "local")
    sign_in(site, page)
    switch_to(page, "local")
    page.goto(f"{site.url}/console/connectors/new/outbox-sms")
    page.locator("#test_country").select_option("FR")
    expect(page.locator("#test_phone")).to_have_attribute("placeholder", "06 12 34 56 78")
    page.locator("#test_phone").press_sequentially("0612345678")
    # Formatted as France writes it, by the end-user pages' phone.js.
    expect(page.locator("#test_phone")).to_have_value("06 12 34 56 78")
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("[data-test-ok]")).to_contain_text("Sent.")
    assert outbox(site, "local")[0]["to"] == "+33612345678"
    shoot(page, "test-send-local-number")


def test_the_set_up_form_shows_every_field_error_at_once(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On a server of its own: the module's admin exists already."""
    folder = tmp_path_factory.mktemp("setup-errors")
    with deploy_on_sqlite(folder, "setup-errors-secret") as fresh, laptop_page(browser) as page:
        page.goto(f"{fresh.url}/console/setup")
        page.locator("#username").fill("a b")
        page.locator("#password").fill("123")
        page.locator("#password_again").fill("456")
        page.get_by_role("button", name="Create the admin account").click()
        summary = page.locator("[data-error]")
        expect(summary).to_have_text("3 fields need your attention: see the messages below.")
        errors = page.locator("[data-field-error]")
        expect(errors).to_have_count(3)
        expect(page.locator('[data-field-error="setup_token"]')).to_have_text(
            InvalidSetupTokenError().message
        )
        expect(page.locator('[data-field-error="username"]')).to_have_text(
            InvalidUsernameError().message
        )
        expect(page.locator('[data-field-error="password"]')).to_have_text(
            "Use 8 to 256 characters."
        )
        expect(page.locator("#username")).to_have_attribute("aria-invalid", "true")
        # The summary is above every field it points to.
        assert top(summary) < top(page.locator("#setup_token"))
        shoot(page, "setup-all-errors")

        # A valid token, good password, mismatching copy: only that field is marked.
        page.locator("#setup_token").fill(setup_token(fresh))
        page.locator("#username").fill("operator")
        page.locator("#password").fill("long enough 1")
        page.locator("#password_again").fill("long enough 2")
        page.get_by_role("button", name="Create the admin account").click()
        expect(page.locator("[data-field-error]")).to_have_count(1)
        expect(page.locator('[data-field-error="password_again"]')).to_have_text(
            "The two passwords are not the same."
        )
        expect(page.locator("[data-error]")).to_have_text(
            "One field needs your attention: see its message below."
        )


def test_a_test_send_with_a_broken_field_points_up_to_it(site: Deployment, page: Page) -> None:
    new_tenant(site, "broken")
    sign_in(site, page)
    switch_to(page, "broken")
    page.goto(f"{site.url}/console/connectors/new/twilio-short-message-service")
    page.locator('input[name="cfg.endpoint"]').fill("not a url")
    page.locator('textarea[name="cfg.templates"]').fill("[")
    page.locator("#test_phone").fill("+4915112345678")
    page.get_by_role("button", name="Send test").click()
    result = page.locator("[data-test-error]")
    expect(result).to_contain_text("above")
    assert top(page.locator('[data-field="templates"]')) < top(result)
    shoot(page, "test-send-broken-field")
