"""The outbox banner and a tenant's kind in a real browser (Debian's Chromium, Playwright).

The walk of a deployment on the root paths: the `default` tenant starts on the outbox and its
sign-in page says so; the admin changes the connector to Twilio (a fake one on 127.0.0.1) in the
console and the banner is gone while a real SMS goes out; then the admin makes `default` a
production tenant, which production's rules refused while the outbox was the connector. Every
state is photographed to tests/artifacts/tenant-kind-*.png (gitignored).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests import local_http
from tests.e2e.browsers import laptop_page, screenshot
from tests.e2e.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SERVICE_SID,
    Deployment,
    FakeTwilio,
    deploy_on_sqlite,
)
from tests.e2e.test_console import sign_in
from tests.e2e.test_pages import enter_phone, send_code

BANNER = "Development tenant: codes go to the outbox, not to real phones."
REFUSED = "Kind: a production tenant cannot send codes through the development outbox."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A server of its own: this walk changes the `default` tenant."""
    with deploy_on_sqlite(tmp_path_factory.mktemp("kind"), "kind-test-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


def api(site: Deployment) -> httpx.Client:
    return local_http.client(base_url=site.url, headers=site.auth, timeout=10)


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"tenant-kind-{name}")


def save_kind(page: Page, site: Deployment, kind: str) -> None:
    page.goto(f"{site.url}/console/tenants")
    page.locator("#current-kind").select_option(kind)
    page.get_by_role("button", name="Save kind").click()


def test_the_banner_follows_the_connector_and_default_becomes_production(
    site: Deployment, page: Page, twilio: FakeTwilio
) -> None:
    with api(site) as client:
        made = client.post("/api/connectors", json={"connectorId": "outbox-sms"})
        assert made.status_code == 200, made.text

    # 1. The outbox is the connector: the end-user page says where codes go.
    page.goto(f"{site.url}/sign-in")
    expect(page.locator("[data-outbox-banner]")).to_have_text(BANNER)
    shoot(page, "1-sign-in-with-outbox")

    # 2. Production is refused while the outbox is the connector, in words, naming the field.
    sign_in(site, page)
    save_kind(page, site, "production")
    expect(page.locator("[data-error]")).to_contain_text(REFUSED)
    expect(page.locator(".tenant-line .tag")).to_have_text("development")
    shoot(page, "2-production-refused")

    # 3. Change the connector to Twilio in the console.
    page.get_by_role("link", name="Connectors").click()
    page.get_by_role("link", name="Change connector").click()
    page.locator('[data-provider="twilio-short-message-service"]').click()
    page.locator('input[name="cfg.accountSID"]').fill(ACCOUNT_SID)
    page.locator('input[name="cfg.authToken"]').fill(AUTH_TOKEN)
    page.locator('input[name="cfg.fromMessagingServiceSID"]').fill(SERVICE_SID)
    page.locator('input[name="cfg.endpoint"]').fill(twilio.url)
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-active-connector]")).to_contain_text("Twilio")
    shoot(page, "3-connector-twilio")

    # 4. The same development tenant on Twilio: no banner, and the code is a real SMS.
    page.goto(f"{site.url}/sign-in")
    expect(page.locator("#phone")).to_be_visible()
    expect(page.locator("[data-outbox-banner]")).to_have_count(0)
    expect(page.get_by_text("codes go to the outbox")).to_have_count(0)
    shoot(page, "4-sign-in-with-twilio")
    page.locator("#country").select_option("DE")
    enter_phone(page, "015112345678", "01511 2345678")
    send_code(page)
    assert twilio.messages[-1].to == "+4915112345678"

    # 5. Now the default tenant may become production, and it is saved.
    save_kind(page, site, "production")
    expect(page.locator("[data-notice]")).to_have_text(
        "Saved. The tenant is a production tenant now."
    )
    expect(page.locator(".tenant-line .tag")).to_have_text("production")
    expect(page.locator("#current-kind")).to_have_value("production")
    shoot(page, "5-default-is-production")
    with api(site) as client:
        assert client.get("/api/tenant").json()["kind"] == "production"
    page.goto(f"{site.url}/sign-in")
    expect(page.locator("#phone")).to_be_visible()
    expect(page.locator("[data-outbox-banner]")).to_have_count(0)

    # 6. Back to development is always allowed.
    save_kind(page, site, "development")
    expect(page.locator("[data-notice]")).to_have_text(
        "Saved. The tenant is a development tenant now."
    )
    expect(page.locator(".tenant-line .tag")).to_have_text("development")
