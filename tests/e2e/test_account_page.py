"""The account page in a real browser: change the password and the phone number, add and remove
the email address.

Each starts by proving it is you (Logto's identity check: a code to the current phone or email
address); a new number or address is proved with a code of its own. Codes come from the
development outboxes as if read off the phone or the mailbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsers import laptop_page
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_pages import (
    NEW_PASSWORD,
    PASSWORD,
    admin,
    enter_code,
    enter_phone,
    expect_account,
    expect_error,
    latest_code,
    new_tenant,
    send_code,
    shoot,
)

from phoneauth.domain.passwords import SamePasswordError
from phoneauth.web.human_messages import end_user_sentence


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("account"), "account-test-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser, "de-DE") as opened:
        yield opened


def password_sign_up(site: Deployment, prefix: str) -> None:
    with admin(site) as client:
        changed = client.patch(
            f"{prefix}/api/sign-in-exp",
            json={
                "signUp": {"identifiers": ["phone"], "password": True, "verify": True},
                "signIn": {
                    "methods": [{"identifier": "phone", "password": True, "verificationCode": True}]
                },
            },
        )
        assert changed.status_code == 200, changed.text
        email = client.post(f"{prefix}/api/connectors", json={"connectorId": "outbox-email"})
        assert email.status_code == 200, email.text
        # Logto's account center starts disabled: let end users change phone, email, password.
        center = {"enabled": True, "fields": {"phone": "Edit", "email": "Edit", "password": "Edit"}}
        opened = client.patch(f"{prefix}/api/account-center", json=center)
        assert opened.status_code == 200, opened.text


def latest_email_code(site: Deployment, email: str, prefix: str) -> str:
    with admin(site) as client:
        found: list[dict[str, Any]] = client.get(
            f"{prefix}/api/outbox", params={"email": email}
        ).json()
    assert found, f"no email to {email}"
    return str(found[0]["code"])


def test_change_the_password_then_the_phone_number(site: Deployment, page: Page) -> None:
    prefix = new_tenant(site, "account")
    password_sign_up(site, prefix)
    base = f"{site.url}{prefix}"
    phone, shown = "+4917612345678", "+49 176 12345678"
    page.goto(f"{base}/register")
    enter_phone(page, "017612345678", "0176 12345678")
    send_code(page)
    enter_code(page, latest_code(site, phone, prefix))
    page.locator("#new-password").fill(PASSWORD)
    page.locator("#confirm-password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect_account(page, f"{base}/account", shown)

    # Who is it? A code to the current phone first.
    page.get_by_role("button", name="Text me a code").click()
    # The code field shows once the send has answered: only then is the new SMS in the outbox.
    expect(page.locator("#identity-code")).to_be_visible()
    page.locator("#identity-code").fill(latest_code(site, phone, prefix))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Change password").click()

    # The current password again is refused, in words.
    page.locator("#new-password").fill(PASSWORD)
    page.locator("#confirm-password").fill(PASSWORD)
    page.get_by_role("button", name="Save password").click()
    expect_error(page, end_user_sentence(SamePasswordError.code))
    shoot(page, "account-same-password")
    page.locator("#new-password").fill(NEW_PASSWORD)
    page.locator("#confirm-password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()
    expect(page.locator("[data-notice]")).to_have_text("Your password has been changed.")

    # A new number, typed as dialled at home, proved with its own code.
    page.get_by_role("button", name="Change phone number").click()
    enter_phone(page, "015112349876", "01511 2349876")
    page.get_by_role("button", name="Text a code to this number").click()
    new_phone = "+4915112349876"
    expect(page.locator("#phone-code")).to_be_visible()
    page.locator("#phone-code").fill(latest_code(site, new_phone, prefix))
    page.get_by_role("button", name="Change phone number").click()
    expect(page.locator("[data-notice]")).to_have_text("Your phone number is now +49 1511 2349876.")
    expect(page.locator("[data-account-phone]")).to_have_text("+49 1511 2349876")
    shoot(page, "account-changed")
    page.reload()
    expect(page.locator("[data-account-phone]")).to_have_text("+49 1511 2349876")

    # An email address, proved with a code to it; then removed after a code to it proves it is you.
    page.get_by_role("button", name="Text me a code").click()
    expect(page.locator("#identity-code")).to_be_visible()
    page.locator("#identity-code").fill(latest_code(site, new_phone, prefix))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Add an email address").click()
    page.locator("#new-email").fill("jane@example.com")
    page.get_by_role("button", name="Email a code to this address").click()
    page.locator("#email-code").fill(latest_email_code(site, "jane@example.com", prefix))
    page.get_by_role("button", name="Save email address").click()
    expect(page.locator("[data-notice]")).to_have_text(
        "Your email address is now jane@example.com."
    )
    page.reload()
    expect(page.locator("[data-account-email]")).to_have_text("jane@example.com")
    page.get_by_role("button", name="Email me a code").click()
    page.locator("#identity-code").fill(latest_email_code(site, "jane@example.com", prefix))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Remove email address").click()
    expect(page.locator("[data-notice]")).to_have_text("Your email address has been removed.")
    expect(page.locator("[data-account-email]")).to_have_text("None")

    # The new number and the new password sign in.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with a password instead").click()
    enter_phone(page, "015112349876", "01511 2349876")
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_account(page, f"{base}/account", "+49 1511 2349876")
