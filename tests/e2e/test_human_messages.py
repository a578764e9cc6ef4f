"""What people read when something fails, in Chromium: sentences, never the API's raw text.

The API keeps Logto's codes and messages (a provider's "HTTP 500", pydantic's "Field required",
"Enabled Sms connector not found.", config paths); the pages and the console say them in words.
Each state is photographed to tests/artifacts/words-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests import local_http
from tests.e2e.browsers import laptop_page, screenshot
from tests.e2e.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, Deployment, deploy_on_sqlite
from tests.e2e.test_console import new_tenant, sign_in, switch_to, use_outbox
from tests.e2e.test_pages import enter_phone
from tests.servers import serve_in_thread

from phoneauth.web.pages import SMS_UNAVAILABLE

TWILIO = "twilio-short-message-service"
RAW = ("Value error", "Field required", "Input should be", "Enabled Sms", "signUp.", "signIn.")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("words"), "words-test-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


@pytest.fixture(scope="module")
def failing_provider() -> Iterator[str]:
    """A Twilio that answers every message with a 500 and an error text of its own."""

    async def fail(_request: Request) -> JSONResponse:
        return JSONResponse({"code": 20500, "message": "Internal Server Error"}, status_code=500)

    path = "/2010-04-01/Accounts/{account_sid}/Messages.json"
    with serve_in_thread(Starlette(routes=[Route(path, fail, methods=["POST"])])) as url:
        yield url


def api(site: Deployment) -> httpx.Client:
    return local_http.client(base_url=site.url, headers=site.auth, timeout=60)


def twilio_at(site: Deployment, tenant_id: str, endpoint: str) -> None:
    config = {
        "accountSID": ACCOUNT_SID,
        "authToken": AUTH_TOKEN,
        "fromMessagingServiceSID": SERVICE_SID,
        "endpoint": endpoint,
        "templates": [{"usageType": "Generic", "content": "Code {{code}}"}],
    }
    with api(site) as client:
        made = client.post(
            f"/t/{tenant_id}/api/connectors", json={"connectorId": TWILIO, "config": config}
        )
        assert made.status_code == 200, made.text


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"words-{name}")


def expect_no_raw_text(page: Page, *more: str) -> None:
    text = page.locator("body").inner_text()
    for raw in (*RAW, *more):
        assert raw not in text, (raw, text)


def test_a_provider_failure_reads_a_sentence_on_the_sign_in_page(
    site: Deployment, page: Page, failing_provider: str
) -> None:
    new_tenant(site, "broken")
    twilio_at(site, "broken", failing_provider)
    page.goto(f"{site.url}/t/broken/sign-in")
    page.locator("#country").select_option("DE")
    enter_phone(page, "015112345678", "01511 2345678")
    with page.expect_response(re.compile(r"/verification/verification-code$")) as answered:
        page.get_by_role("button", name="Send code").click()
    # The API answers programs as before: Logto's code and its own message.
    body = answered.value.json()
    assert answered.value.status == 502
    assert body["code"] == "connector.general"
    assert "HTTP 500" in body["message"]
    error = page.locator("[data-error]")
    expect(error).to_have_text(SMS_UNAVAILABLE)
    for raw in ("HTTP", "500", "provider", "Internal Server Error"):
        assert raw not in error.inner_text()
    expect_no_raw_text(page, "HTTP", "connector")
    shoot(page, "sign-in-provider-failed")


def test_a_bad_connector_field_reads_its_label_and_a_sentence(site: Deployment, page: Page) -> None:
    new_tenant(site, "fields")
    sign_in(site, page)
    switch_to(page, "fields")
    page.goto(f"{site.url}/console/connectors/new/{TWILIO}")
    page.locator('input[name="cfg.endpoint"]').fill("example.com/sms")
    page.locator('textarea[name="cfg.templates"]').fill(
        '[{"usageType": "Login", "content": "Code {{code}}"}]'
    )
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-error]")).to_have_text("Some fields need your attention.")
    expect(page.locator('[data-field="accountSID"] [data-field-error]')).to_have_text(
        "This field is required."
    )
    expect(page.locator('[data-field="endpoint"] [data-field-error]')).to_have_text(
        "This field must be an absolute http:// or https:// URL."
    )
    expect(page.locator('[data-field="templates"] [data-field-error]')).to_contain_text(
        "The usage type of template 1 must be one of: SignIn, Register, ForgotPassword"
    )
    expect_no_raw_text(page, "0.usageType")
    shoot(page, "connector-fields")

    # A test send names each field by the label the form shows.
    page.locator("#test_phone").fill("+4915112345678")
    page.get_by_role("button", name="Send test").click()
    result = page.locator("[data-test-error]")
    expect(result).to_contain_text("Some connector settings are not valid.")
    expect(result).to_contain_text("“Account SID” is required.")
    expect(result).to_contain_text("“API endpoint” must be an absolute http:// or https:// URL.")
    expect(result).to_contain_text("The usage type of template 1 must be one of:")
    expect_no_raw_text(page, "accountSID:", "endpoint:")
    shoot(page, "connector-test-fields")


def test_the_delete_guard_lists_what_depends_on_the_connector_in_words(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "guarded")
    use_outbox(site, "guarded")
    sign_in(site, page)
    switch_to(page, "guarded")
    page.get_by_role("link", name="Details").click()
    page.get_by_role("link", name="Delete").click()
    dependents = page.locator("[data-dependents] li")
    expect(dependents).to_have_text(
        ["Sign-up asks for a phone number", "Sign-in by phone number and verification code"]
    )
    expect_no_raw_text(page, "PhoneVerificationCode", ": phone")
    shoot(page, "delete-guard")


def test_the_sign_in_experience_page_says_logto_rules_in_words(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "nosms")  # no SMS connector: phone sign-up cannot work
    sign_in(site, page)
    switch_to(page, "nosms")
    page.locator("nav.sidenav").get_by_role("link", name="Sign-in experience").click()
    page.locator("#sign_up_identifier").select_option("phone")
    page.get_by_role("button", name="Save changes").click()
    error = page.locator("[data-error]")
    expect(error).to_have_text(
        "Sign-up asks for a phone number: this needs an SMS connector to send the codes. Set "
        "one up under Connectors first, or change this setting."
    )
    expect_no_raw_text(page, "Sms connector", "not found.")
    shoot(page, "sign-in-experience-needs-sms")

    page.locator("#sign_up_identifier").select_option("email")
    page.get_by_role("button", name="Save changes").click()
    expect(error).to_have_text(
        "Sign-up asks for an email address: this needs an Email connector to send the codes. "
        "Set one up under Connectors first, or change this setting."
    )
    expect_no_raw_text(page, "Email connector not found")


def test_a_migration_without_secrets_says_how_to_bring_them(
    site: Deployment, page: Page, failing_provider: str
) -> None:
    new_tenant(site, "source")
    twilio_at(site, "source", failing_provider)
    new_tenant(site, "empty", kind="production")
    sign_in(site, page)
    page.locator("nav.sidenav").get_by_role("link", name="Tenants").click()
    page.get_by_role("link", name="Migrate configuration").click()
    page.locator("#source").select_option("source")
    page.locator("#target").select_option("empty")
    page.get_by_role("button", name="Show changes").click()
    error = page.locator("[data-error]")
    expect(error).to_contain_text("The migration cannot be applied.")
    expect(error).to_contain_text("The tenant “empty” has no saved “Auth Token” of its own to keep")
    expect(error).to_contain_text("Tick “Include secrets”")
    expect_no_raw_text(page, "the mask is not a secret", "authToken")
    shoot(page, "migrate-without-secrets")
