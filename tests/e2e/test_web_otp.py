"""WebOTP on the end-user pages: loaded only for a tenant that set `webOtpDomain`; in Chromium
(its WebOTP API stood in for, since no SMS reaches a test browser) a shown code field asks for
the SMS code, fills it in and submits; typing the code by hand aborts the request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsers import laptop_page
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_pages import admin, enter_phone, latest_code, new_tenant, send_code

# The WebOTP API as Chrome on Android offers it, answering when the test "receives" the SMS.
FAKE_WEB_OTP = """
window.OTPCredential = function OTPCredential() {};
window.__otp = { calls: [] };
Object.defineProperty(navigator, "credentials", { configurable: true, value: {
  get: function (options) {
    return new Promise(function (resolve, reject) {
      var call = { transport: options.otp && options.otp.transport, aborted: false };
      call.signal = options.signal instanceof AbortSignal;
      window.__otp.calls.push(call);
      options.signal.addEventListener("abort", function () {
        call.aborted = true; reject(new DOMException("aborted", "AbortError"));
      });
      window.__otp.deliver = function (code) { resolve({ type: "otp", code: code }); };
    });
  }
}});
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("webotp"), "web-otp-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser, "de-DE") as opened:
        opened.add_init_script(FAKE_WEB_OTP)
        yield opened


def calls(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.__otp.calls")
    return found


def test_the_script_is_on_the_pages_only_when_the_tenant_set_the_domain(site: Deployment) -> None:
    plain, bound = new_tenant(site, "plain"), new_tenant(site, "bound")
    with admin(site) as client:
        changed = client.patch(
            f"{bound}/api/tenant/settings", json={"webOtpDomain": "id.example.com"}
        )
        assert changed.status_code == 200, changed.text
        for path in ("/sign-in", "/register", "/forgot-password"):
            assert "web_otp.js" not in client.get(f"{plain}{path}").text
            html = client.get(f"{bound}{path}").text
            assert 'defer data-web-otp-domain="id.example.com"></script>' in html
        assert 'autocomplete="one-time-code"' in client.get(f"{plain}/sign-in").text


@pytest.fixture(scope="module")
def otp_tenant(site: Deployment) -> str:
    """A tenant whose codes end with the Web OTP line for this site: its path prefix. Made here,
    not by the first test that needs it, so that each test also runs alone."""
    prefix = new_tenant(site, "otp")
    with admin(site) as client:
        changed = client.patch(f"{prefix}/api/tenant/settings", json={"webOtpDomain": "localhost"})
        assert changed.status_code == 200, changed.text
    return prefix


def test_the_code_from_the_sms_is_filled_in_and_submitted(
    site: Deployment, otp_tenant: str, page: Page
) -> None:
    prefix = otp_tenant
    phone = "+4915112340001"
    page.goto(f"{site.url}{prefix}/register")
    enter_phone(page, "015112340001", "01511 2340001")
    send_code(page)
    page.wait_for_function("() => window.__otp.calls.length === 1")
    assert calls(page) == [{"transport": ["sms"], "signal": True, "aborted": False}]
    with admin(site) as client:
        [sms] = client.get(f"{prefix}/api/outbox", params={"phone": phone}).json()[:1]
    code = latest_code(site, phone, prefix)
    assert sms["text"].endswith(f"\n@localhost #{code}")
    page.evaluate("code => window.__otp.deliver(code)", code)
    expect(page).to_have_url(re.compile(re.escape(f"{site.url}{prefix}/account")))
    expect(page.locator("[data-account-phone]")).to_have_text("+49 1511 2340001")


def test_typing_the_code_by_hand_aborts_the_request(
    site: Deployment, otp_tenant: str, page: Page
) -> None:
    prefix = otp_tenant
    page.goto(f"{site.url}{prefix}/sign-in")
    enter_phone(page, "015112340002", "01511 2340002")
    send_code(page)
    page.wait_for_function("() => window.__otp.calls.length === 1")
    step = page.locator('form[data-step="code"]')
    step.locator("#code").fill("000000")
    step.get_by_role("button", name="Continue").click()
    page.wait_for_function("() => window.__otp.calls[0].aborted === true")
    expect(page.locator("[data-error]")).to_be_visible()
    # "Start over" hides the code step (any waiting request ends); shown again, it asks anew.
    step.locator("[data-back]").click()
    expect(step).to_be_hidden()
    before = calls(page)
    assert all(call["aborted"] for call in before)
    send_code(page)
    page.wait_for_function(
        "n => window.__otp.calls.length === n + 1 && !window.__otp.calls[n].aborted",
        arg=len(before),
    )
