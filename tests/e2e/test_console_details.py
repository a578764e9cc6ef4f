"""Smaller console behaviours in a real browser (issue 12): the test-send country picker, the form
error summaries, the message log's filters and width, the embedded sign-in preview.

Own module-scoped server and admin, as test_console.py; screenshots go to
tests/artifacts/console-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsers import laptop_page
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_console import new_tenant, outbox, shoot, sign_in, switch_to


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("details"), "console-details-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


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
