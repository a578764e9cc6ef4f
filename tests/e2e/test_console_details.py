"""Smaller console behaviours in a real browser (issue 12): the test-send country picker, the form
error summaries, the message log's filters and width, the embedded sign-in preview.

Own module-scoped server and admin, as test_console.py; screenshots go to
tests/artifacts/console-*.png.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from tests import local_http
from tests.e2e.browsers import laptop_page
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_console import (
    SETUP_TOKEN_WRONG,
    new_tenant,
    outbox,
    setup_token,
    shoot,
    sign_in,
    switch_to,
    use_outbox,
)
from tests.servers import serve_in_thread

from phoneauth.connectors import mask_phone
from phoneauth.domain.console_admins import InvalidUsernameError
from phoneauth.domain.message_log import MessageLogEntry, MessageStatus
from phoneauth.ids import new_id
from phoneauth.storage.database import open_database
from phoneauth.storage.repositories.message_log import SqlMessageLogStore


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
        expect(page.locator('[data-field-error="setup_token"]')).to_have_text(SETUP_TOKEN_WRONG)
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


def add_log_entries(site: Deployment, entries: list[MessageLogEntry]) -> None:
    """Write message-log rows into the site's database, as sends would have (a thread of its
    own: Playwright's loop owns this one)."""
    settings = site.services.settings

    async def write() -> None:
        database = open_database(settings.resolved_database_url, schema=settings.database_schema)
        try:
            store = SqlMessageLogStore(database)
            for entry in entries:
                await store.add(entry)
        finally:
            await database.dispose()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, write()).result(timeout=30)


def entry(tenant_id: str, minute: int, phone: str, usage: str, **more: Any) -> MessageLogEntry:
    values: dict[str, Any] = {
        "connector_id": None,
        "factory_id": "twilio-short-message-service",
        "status": MessageStatus.SENT,
        "provider_message_id": "SM" + "0123456789abcdef" * 2,
        "latency_ms": 212,
    } | more
    return MessageLogEntry(
        id=new_id(),
        tenant_id=tenant_id,
        created_at=datetime(2026, 12, 1, 9, minute, tzinfo=UTC),
        usage_type=usage,
        phone_masked=mask_phone(phone),
        **values,
    )


def test_the_message_log_fits_a_laptop_filters_by_post_and_names_test_sends(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "log")
    long_error = "The 'To' number +4915112344321 is not a valid phone number. " * 4
    add_log_entries(
        site,
        [
            entry("log", 1, "+4915112341111", "SignIn"),
            entry("log", 2, "+4915112342222", "Register"),
            entry(
                "log",
                3,
                "+4915112341111",
                "ForgotPassword",
                status=MessageStatus.FAILED,
                provider_message_id=None,
                error_code="connector.invalid_phone_number",
                error_message=long_error.strip(),
            ),
            entry("log", 4, "+4915112343333", "SignIn", factory_id="vonage-sms"),
        ],
    )
    sign_in(site, page)
    switch_to(page, "log")
    # A console test send: the newest entry, labelled as such here and on the connectors page.
    page.goto(f"{site.url}/console/connectors/new/outbox-sms")
    page.locator("#test_country").select_option("DE")
    page.locator("#test_phone").fill("015112349999")
    page.get_by_role("button", name="Send test").click()
    expect(page.locator("[data-test-ok]")).to_contain_text("Sent.")
    page.get_by_role("button", name="Save and done").click()
    expect(page.locator("[data-last-send-test]")).to_have_text("connector test send")
    expect(page.locator("[data-last-send]")).to_contain_text("+4915*****9999")
    shoot(page, "connectors-last-send-test")

    page.get_by_role("link", name="Message log").click()
    rows = page.locator("[data-message-log] tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first.locator("[data-test-send-label]")).to_have_text("Connector test send")
    expect(page.locator("[data-test-send]")).to_have_count(1)
    # Fits 1,280 px: neither the page nor the table's container scrolls sideways.
    widths = page.evaluate(
        """() => { const wrap = document.querySelector('.table-wrap');
        return [document.documentElement.scrollWidth, wrap.scrollWidth, wrap.clientWidth]; }"""
    )
    assert widths[0] <= 1280, widths
    assert widths[1] <= widths[2], widths
    shoot(page, "message-log-laptop")

    # By phone: the number goes in the body, never in the address.
    page.locator("#phone").fill("+49 1511 2341111")
    page.locator("[data-filter]").click()
    expect(rows).to_have_count(2)
    assert "1111" not in page.url
    assert "phone" not in page.url
    expect(page.locator("[data-total]")).to_have_text("2 entries")
    page.locator("#usage_type").select_option("ForgotPassword")  # a select submits itself
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("connector.invalid_phone_number")
    shoot(page, "message-log-filtered")

    page.get_by_role("link", name="Clear filters").click()
    page.locator("#connector").select_option("vonage-sms")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+4915*****3333")
    page.locator("#connector").select_option("outbox-sms")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-test-send", "")

    page.locator("#connector").select_option("")
    expect(rows).to_have_count(5)
    page.locator("#phone").fill("12")
    page.locator("[data-filter]").click()
    expect(page.locator('[data-field-error="phone"]')).to_contain_text("not a phone number")


def framing_page(target: str) -> Starlette:
    """Another origin that tries to frame `target`."""

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<!doctype html><iframe src="{target}" id="framed"></iframe>')

    return Starlette(routes=[Route("/", home)])


def test_the_sign_in_experience_page_embeds_a_same_origin_live_preview(
    site: Deployment, page: Page
) -> None:
    new_tenant(site, "preview")
    use_outbox(site, "preview")
    sign_in(site, page)
    switch_to(page, "preview")
    page.get_by_role("link", name="Sign-in experience").click()
    frame_element = page.locator("[data-preview-frame]")
    expect(frame_element).to_have_attribute("src", "/t/preview/sign-in")
    preview = page.frame_locator("[data-preview-frame]")
    expect(preview.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(preview.locator("#phone")).to_be_visible()
    # Side by side with the form on a laptop.
    assert top(frame_element) < top(page.get_by_role("button", name="Save changes"))
    shoot(page, "sign-in-experience-preview")

    # A change saved shows in the preview, which reloads with the page.
    page.locator('input[name="method-0-password"]').check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("[data-notice]")).to_be_visible()
    expect(preview.get_by_role("button", name="Sign in with a password instead")).to_be_visible()

    # The sign-in page may be framed by its own origin only.
    with local_http.client(base_url=site.url, timeout=60) as client:
        headers = client.get("/t/preview/sign-in").headers
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    with serve_in_thread(framing_page(f"{site.url}/t/preview/sign-in")) as other:
        assert urlsplit(other).port != urlsplit(site.url).port  # another origin
        page.goto(other, wait_until="load")
        child = page.locator("#framed").element_handle()
        assert child is not None
        framed = child.content_frame()
        assert framed is not None
        # Chromium puts its own error page in place of the blocked document.
        assert framed.url.startswith("chrome-error://"), framed.url
        assert framed.locator("#phone").count() == 0


def test_an_application_is_created_and_shows_what_the_app_needs(
    site: Deployment, page: Page
) -> None:
    sign_in(site, page)
    page.get_by_role("link", name="Applications").click()
    page.locator("#name").fill("Web shop")
    page.get_by_role("radio", name="Traditional web app").check()
    page.locator("#redirect_uris").fill("https://shop.example.com/callback")
    page.get_by_role("button", name="Create application").click()
    expect(page.locator("[data-new-secret]")).to_have_text(re.compile(r"^\S{32}$"))
    issuer = f"{site.services.settings.resolved_public_url}/oidc"
    expect(page.locator("[data-issuer]")).to_have_text(issuer)
    expect(page.locator("[data-discovery]")).to_have_text(
        f"{issuer}/.well-known/openid-configuration"
    )
    expect(page.locator("[data-redirect-uris]")).to_have_text("https://shop.example.com/callback")
    shoot(page, "application-created")
