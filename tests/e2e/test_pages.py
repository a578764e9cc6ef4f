"""The end-user pages in a real browser: Debian's headless Chromium, driven by Playwright.

phoneauth runs under uvicorn on an SQLite file. The outbox is each tenant's SMS connector, set up
over the Management API, and the codes are read from `GET /api/outbox` as if from the phone.
Every page is photographed to tests/artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, expect
from tests import local_http
from tests.e2e.browsers import LAPTOP, PHONE_SCREEN, laptop_page, screenshot
from tests.e2e.conftest import Deployment, deploy_on_sqlite

from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.web.human_messages import EMAIL_UNAVAILABLE

PASSWORD = "correct horse battery"
NEW_PASSWORD = "another horse battery"
CODE_MISMATCH = "The code is wrong. Check the text message and try again."
"""The page's sentence for `verification_code.code_mismatch` (the API says it its own way)."""
START_AGAIN = "This sign-in has expired or was interrupted. Please start again."
INVALID_NUMBER = (
    "Enter a valid phone number for the selected country, or start with + and the country code."
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One server for the module, on an SQLite file; each test uses its own phone or tenant."""
    with deploy_on_sqlite(tmp_path_factory.mktemp("pages"), "pages-test-secret") as deployed:
        with admin(deployed) as client:
            use_outbox(client, "")
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) in German, as on a laptop."""
    with laptop_page(browser, "de-DE") as opened:
        yield opened


# --- helpers -----------------------------------------------------------------------------------


def admin(site: Deployment) -> httpx.Client:
    return local_http.client(base_url=site.url, headers=site.auth, timeout=60)


def use_outbox(client: httpx.Client, prefix: str) -> None:
    created = client.post(f"{prefix}/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text


def new_tenant(site: Deployment, tenant_id: str) -> str:
    """A development tenant with the outbox as its SMS connector; its path prefix."""
    with admin(site) as client:
        created = client.post("/api/tenants", json={"id": tenant_id, "name": "Rocket Shop"})
        assert created.status_code == 201, created.text
        use_outbox(client, f"/t/{tenant_id}")
    return f"/t/{tenant_id}"


def latest_code(site: Deployment, phone: str, prefix: str = "") -> str:
    """The code of the newest SMS to `phone`, read from the development outbox."""
    with admin(site) as client:
        messages: list[dict[str, Any]] = client.get(
            f"{prefix}/api/outbox", params={"phone": phone}
        ).json()
    assert messages, f"no SMS to {phone}"
    return str(messages[0]["code"])


def shoot(page: Page, name: str) -> None:
    screenshot(page, name)


def enter_phone(page: Page, national: str, formatted: str) -> None:
    """Type the number key by key; the page formats it as typed."""
    field = page.locator("#phone")
    field.press_sequentially(national)
    expect(field).to_have_value(formatted)


def send_code(page: Page) -> None:
    """Ask for the SMS; the code step shows once the API has sent it."""
    page.get_by_role("button", name="Send code").click()
    expect(page.locator('form[data-step="code"]')).to_be_visible()


def enter_code(page: Page, code: str) -> None:
    step = page.locator('form[data-step="code"]')
    expect(step).to_be_visible()
    step.locator("#code").fill(code)
    step.get_by_role("button", name="Continue").click()


def expect_error(page: Page, message: str) -> None:
    alert = page.locator("[data-error]")
    expect(alert).to_be_visible()
    expect(alert).to_have_text(message)
    assert "{" not in alert.inner_text()


def expect_account(page: Page, url: str, phone: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(url) + r"(\?.*)?$"))
    expect(page.locator("[data-account-phone]")).to_have_text(phone)


# --- the flows ---------------------------------------------------------------------------------


def test_register_then_sign_in_again(site: Deployment, browser: Browser, page: Page) -> None:
    phone = "+4915112345678"
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.goto(f"{site.url}/register")
    expect(page.locator("#country")).to_have_value("DE")  # from Accept-Language: de-DE
    expect(page.get_by_text("Development tenant")).to_be_visible()
    shoot(page, "register")

    enter_phone(page, "015112345678", "01511 2345678")
    # Formatting as typed asks the server, with the number in the body: URLs reach access logs.
    formatting = [r for r in requests if r.url.endswith("/api/phone-format")]
    assert formatting
    assert {r.method for r in formatting} == {"POST"}
    assert not [r.url for r in requests if "2345678" in r.url or "1511" in r.url]
    send_code(page)
    expect(page.locator('form[data-step="code"]')).to_contain_text("+49 1511 2345678")
    resend = page.locator("[data-resend]")
    expect(resend).to_be_disabled()
    expect(resend).to_have_text(re.compile(r"Resend code in (59|58|57) s"))
    shoot(page, "register-code")
    enter_code(page, latest_code(site, phone))
    expect_account(page, f"{site.url}/account", "+49 1511 2345678")
    shoot(page, "account")

    # Another browser, nothing remembered: sign in with a new code.
    again = browser.new_context(locale="en-GB", viewport=PHONE_SCREEN).new_page()
    again.goto(f"{site.url}/sign-in")
    expect(again.locator("#country")).to_have_value("GB")
    again.locator("#country").select_option("DE")
    shoot(again, "sign-in-phone-screen")
    enter_phone(again, "015112345678", "01511 2345678")
    send_code(again)
    enter_code(again, latest_code(site, phone))
    expect_account(again, f"{site.url}/account", "+49 1511 2345678")
    shoot(again, "account-phone-screen")

    # Signing out ends the session: the account page sends the browser back to sign in.
    again.get_by_role("button", name="Sign out").click()
    expect(again).to_have_url(f"{site.url}/sign-in")
    again.goto(f"{site.url}/account")
    expect(again).to_have_url(f"{site.url}/sign-in")

    # Registering the number once more offers to sign in to the account it already has.
    again.goto(f"{site.url}/register")
    again.locator("#country").select_option("DE")
    enter_phone(again, "015112345678", "01511 2345678")
    send_code(again)
    enter_code(again, latest_code(site, phone))
    expect(again.get_by_role("heading", name="You already have an account")).to_be_visible()
    shoot(again, "register-existing-account")
    again.get_by_role("button", name="Sign in").click()
    expect_account(again, f"{site.url}/account", "+49 1511 2345678")
    again.context.close()


def test_invalid_number_and_wrong_code_are_said_in_words(site: Deployment, page: Page) -> None:
    page.goto(f"{site.url}/sign-in")
    page.locator("#phone").fill("12")
    with page.expect_response(
        re.compile(r"/api/experience/verification/verification-code$")
    ) as sent:
        page.get_by_role("button", name="Send code").click()
    # The API keeps its code and its wording for API clients; the page says it for its picker.
    assert sent.value.status == 400
    assert sent.value.json()["code"] == InvalidPhoneNumberError.code
    expect_error(page, INVALID_NUMBER)
    shoot(page, "sign-in-invalid-number")

    page.locator("#phone").fill("")
    enter_phone(page, "015122223333", "01512 2223333")
    send_code(page)
    code = latest_code(site, "+4915122223333")
    enter_code(page, "000000" if code != "000000" else "111111")
    expect_error(page, CODE_MISMATCH)
    expect(page.locator("#code")).to_have_value("")
    shoot(page, "sign-in-wrong-code")

    # The right code then signs up this unknown number, as the page offers.
    enter_code(page, code)
    expect(page.get_by_role("heading", name="No account yet")).to_be_visible()
    shoot(page, "sign-in-create-account")
    page.get_by_role("button", name="Create account").click()
    expect_account(page, f"{site.url}/account", "+49 1512 2223333")


def test_a_lost_sign_in_goes_back_to_the_first_step_and_says_so(
    site: Deployment, page: Page
) -> None:
    page.goto(f"{site.url}/register")
    enter_phone(page, "015133334444", "01513 3334444")
    send_code(page)
    # The interaction is gone (its cookie expired, or another tab finished it): the API answers
    # Logto's `400 session.not_found`, and the page starts over instead of leaving the user stuck.
    page.context.clear_cookies()
    with page.expect_response(re.compile(r"/verification-code/verify$")) as verified:
        enter_code(page, latest_code(site, "+4915133334444"))
    assert (verified.value.status, verified.value.json()["code"]) == (400, "session.not_found")
    expect_error(page, START_AGAIN)
    expect(page.locator('form[data-step="code"]')).to_be_hidden()
    shoot(page, "register-started-over")
    # Starting again works: a new code, and the account.
    send_code(page)
    enter_code(page, latest_code(site, "+4915133334444"))
    expect_account(page, f"{site.url}/account", "+49 1513 3334444")


def test_forgot_password_then_sign_in_with_the_new_one(
    site: Deployment, browser: Browser, page: Page
) -> None:
    prefix = new_tenant(site, "reset")
    with admin(site) as client:
        changed = client.patch(
            f"{prefix}/api/sign-in-exp",
            json={
                "signUp": {"identifiers": ["phone"], "password": True, "verify": True},
                "signIn": {
                    "methods": [
                        {
                            "identifier": "phone",
                            "password": True,
                            "verificationCode": True,
                            "isPasswordPrimary": True,
                        }
                    ]
                },
            },
        )
        assert changed.status_code == 200, changed.text
    phone, shown = "+4917612345678", "+49 176 12345678"
    base = f"{site.url}{prefix}"

    # Registration asks for the password the sign-up settings require.
    page.goto(f"{base}/register")
    enter_phone(page, "017612345678", "0176 12345678")
    send_code(page)
    enter_code(page, latest_code(site, phone, prefix))
    expect(page.locator('form[data-step="password"]')).to_be_visible()
    page.locator("#new-password").fill(PASSWORD)
    page.locator("#confirm-password").fill(PASSWORD)
    shoot(page, "register-password")
    page.get_by_role("button", name="Create account").click()
    expect_account(page, f"{base}/account", shown)

    forgetful = browser.new_context(locale="de-DE", viewport=LAPTOP).new_page()
    forgetful.goto(f"{base}/sign-in")
    expect(forgetful.locator("#password")).to_be_visible()
    shoot(forgetful, "sign-in-password")
    forgetful.get_by_role("link", name="Forgot password?").click()
    expect(forgetful).to_have_url(f"{base}/forgot-password")
    shoot(forgetful, "forgot-password")
    enter_phone(forgetful, "017612345678", "0176 12345678")
    send_code(forgetful)
    enter_code(forgetful, latest_code(site, phone, prefix))
    forgetful.locator("#new-password").fill(NEW_PASSWORD)
    forgetful.locator("#confirm-password").fill(NEW_PASSWORD + "!")
    forgetful.get_by_role("button", name="Save password").click()
    expect_error(forgetful, "The passwords do not match.")
    forgetful.locator("#confirm-password").fill(NEW_PASSWORD)
    forgetful.get_by_role("button", name="Save password").click()
    expect(forgetful.get_by_role("heading", name="Password changed")).to_be_visible()
    shoot(forgetful, "forgot-password-done")

    forgetful.get_by_role("link", name="Sign in", exact=True).click()
    enter_phone(forgetful, "017612345678", "0176 12345678")
    forgetful.locator("#password").fill(PASSWORD)
    forgetful.get_by_role("button", name="Sign in", exact=True).click()
    expect_error(forgetful, "The phone number or the password is wrong.")
    forgetful.locator("#password").fill(NEW_PASSWORD)
    forgetful.get_by_role("button", name="Sign in", exact=True).click()
    expect_account(forgetful, f"{base}/account", shown)
    forgetful.context.close()


def test_invitation_accepted_with_the_code_from_the_sms(site: Deployment, page: Page) -> None:
    prefix = new_tenant(site, "invite")
    phone = "+4915199990000"
    with admin(site) as client:
        organization = client.post(f"{prefix}/api/organizations", json={"name": "Acme Rockets"})
        assert organization.status_code == 201, organization.text
        organization_id = organization.json()["id"]
        invitation = client.post(
            f"{prefix}/api/organization-invitations",
            json={"organizationId": organization_id, "invitee": phone},
        )
        assert invitation.status_code == 201, invitation.text
    base = f"{site.url}{prefix}"

    page.clock.install()
    page.goto(f"{base}/invitations/{invitation.json()['id']}")
    expect(page.get_by_role("heading", name="Join Acme Rockets")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text("+4915*****0000")
    page.locator("#code").fill("000000" if latest_code(site, phone, prefix) != "000000" else "1")
    page.get_by_role("button", name="Accept invitation").click()
    expect_error(page, CODE_MISMATCH)
    shoot(page, "invitation")

    # Asked for at once, the code waits for the resend cooldown: the page says how long, in
    # words, and the button counts down from the server's answer.
    resend = page.locator("[data-resend]")
    resend.click()
    expect(page.locator("[data-error]")).to_have_text(
        re.compile(
            r"A code was sent moments ago\. You can ask for another in (\d\d seconds|1 minute)\."
        )
    )
    expect(resend).to_be_disabled()
    expect(resend).to_have_text(re.compile(r"Send me a new code in \d\d s"))
    # The wait over (the server's clock is real: its cooldown is turned off meanwhile), the
    # invitee gets the same code again; the answer allows the next at once.
    with admin(site) as client:
        off = {"verificationCodePolicy": {"resendCooldownSeconds": 0}}
        assert client.patch(f"{prefix}/api/tenant/settings", json=off).status_code == 200
    page.clock.fast_forward(61_000)
    expect(resend).to_be_enabled()
    resend.click()
    expect(page.locator("[data-notice]")).to_have_text("We sent the text message again.")
    expect(resend).to_be_enabled()
    expect(resend).to_have_text("Send me a new code")
    with admin(site) as client:
        texts = client.get(f"{prefix}/api/outbox", params={"phone": phone}).json()
    assert len(texts) == 2
    assert texts[0]["code"] == texts[1]["code"]
    link = f"/t/invite/invitations/{invitation.json()['id']}"
    assert all(text["text"].endswith(link) for text in texts)
    shoot(page, "invitation-new-code")

    page.locator("#code").fill(latest_code(site, phone, prefix))
    page.get_by_role("button", name="Accept invitation").click()
    expect_account(page, f"{base}/account", "+49 1519 9990000")
    expect(page.get_by_role("status")).to_have_text("You joined Acme Rockets.")
    shoot(page, "invitation-accepted")

    with admin(site) as client:
        members = client.get(f"{prefix}/api/organizations/{organization_id}/users").json()
    assert [member["primaryPhone"] for member in members] == [phone]

    # The invitation is used up: its page now says so.
    page.goto(f"{base}/invitations/{invitation.json()['id']}")
    expect(page.locator(".lead")).to_have_text("This invitation has already been accepted.")


def test_two_step_sign_in_by_sms_and_the_resend_timer(
    site: Deployment, browser: Browser, page: Page
) -> None:
    prefix = new_tenant(site, "twostep")
    with admin(site) as client:
        changed = client.patch(
            f"{prefix}/api/sign-in-exp",
            json={
                "signUp": {"identifiers": ["phone"], "password": True, "verify": True},
                "signIn": {
                    "methods": [
                        {
                            "identifier": "phone",
                            "password": True,
                            "verificationCode": False,
                            "isPasswordPrimary": True,
                        }
                    ]
                },
                "mfa": {"factors": ["PhoneVerificationCode"], "policy": "Mandatory"},
            },
        )
        assert changed.status_code == 200, changed.text
    phone, shown = "+4915755555555", "+49 1575 5555555"
    base = f"{site.url}{prefix}"

    # The resend timer counts down the answer's 60 s (Resend-After), on a fake clock.
    page.clock.install()
    page.goto(f"{base}/register")
    enter_phone(page, "015755555555", "01575 5555555")
    send_code(page)
    first_code = latest_code(site, phone, prefix)
    resend = page.locator("[data-resend]")
    expect(resend).to_be_disabled()
    page.clock.fast_forward(30_000)
    expect(resend).to_be_disabled()
    page.clock.fast_forward(30_000)
    expect(resend).to_be_enabled()
    expect(resend).to_have_text("Resend code")
    with admin(site) as client:  # the server's clock is real: no cooldown from here on
        off = {"verificationCodePolicy": {"resendCooldownSeconds": 0}}
        assert client.patch(f"{prefix}/api/tenant/settings", json=off).status_code == 200
    resend.click()
    expect(page.locator("[data-notice]")).to_have_text("We sent the text message again.")
    expect(resend).to_be_enabled()  # the answer allows the next send at once
    with admin(site) as client:
        sent = client.get(f"{prefix}/api/outbox", params={"phone": phone}).json()
    assert len(sent) == 2
    new_code = str(sent[0]["code"])
    if new_code != first_code:  # the first code went with the first verification
        enter_code(page, first_code)
        expect_error(page, CODE_MISMATCH)
    enter_code(page, new_code)
    page.locator("#new-password").fill(PASSWORD)
    page.locator("#confirm-password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect_account(page, f"{base}/account", shown)

    # Signing in with the password asks for the code the second factor sends.
    other = browser.new_context(locale="de-DE", viewport=LAPTOP).new_page()
    other.goto(f"{base}/sign-in")
    enter_phone(other, "015755555555", "01575 5555555")
    other.locator("#password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in", exact=True).click()
    step = other.locator('form[data-step="code"]')
    expect(step).to_contain_text("Two-step verification")
    expect(step).to_contain_text("+4915*****5555")
    shoot(other, "sign-in-two-step")
    with admin(site) as client:
        newest = client.get(f"{prefix}/api/outbox", params={"phone": phone}).json()[0]
    assert newest["usageType"] == "MfaVerification"
    enter_code(other, str(newest["code"]))
    expect_account(other, f"{base}/account", shown)
    other.context.close()


def email_code(site: Deployment, address: str, prefix: str) -> str:
    """The code of the newest email to `address`, once it has arrived (a reset code to a known
    address is sent after the answer, as Logto does)."""
    with admin(site) as client:
        for _ in range(300):
            found = client.get(f"{prefix}/api/outbox", params={"email": address}).json()
            if found:
                return str(found[0]["code"])
            time.sleep(0.1)
    raise AssertionError(f"no email to {address}")


def test_email_and_username_register_sign_in_and_reset(
    site: Deployment, browser: Browser, page: Page
) -> None:
    """Sign-up by email code asking for a username too; sign-in with the username and password;
    a password reset by email code. Both outboxes are the tenant's connectors."""
    prefix = new_tenant(site, "people")
    with admin(site) as client:
        assert client.post(f"{prefix}/api/connectors", json={"connectorId": "outbox-email"})
        changed = client.patch(
            f"{prefix}/api/sign-in-exp",
            json={
                "signUp": {
                    "identifiers": ["email"],
                    "password": True,
                    "verify": True,
                    "secondaryIdentifiers": [{"identifier": "username"}],
                },
                "signIn": {
                    "methods": [
                        {
                            "identifier": "email",
                            "password": False,
                            "verificationCode": True,
                            "isPasswordPrimary": False,
                        },
                        {
                            "identifier": "phone",
                            "password": False,
                            "verificationCode": True,
                            "isPasswordPrimary": False,
                        },
                        {
                            "identifier": "username",
                            "password": True,
                            "verificationCode": False,
                            "isPasswordPrimary": False,
                        },
                    ]
                },
                "forgotPasswordMethods": ["EmailVerificationCode"],
            },
        )
        assert changed.status_code == 200, changed.text
    base = f"{site.url}{prefix}"
    address = "Ann.Lee@Example.com"

    # Registration: the address and its code, then the password and the username sign-up asks for.
    page.goto(f"{base}/register")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_text("We will email you a code to confirm your address.")).to_be_visible()
    page.get_by_label("Email").fill(address)
    send_code(page)
    expect(page.locator('form[data-step="code"]')).to_contain_text(address)
    enter_code(page, email_code(site, address, prefix))
    page.locator("#new-password").fill(PASSWORD)
    page.locator("#confirm-password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.locator("#username").fill("7ann")
    page.get_by_role("button", name="Continue").click()
    expect_error(
        page, "Use only letters, digits and _ in the username, starting with a letter or _."
    )
    page.locator("#username").fill("ann_lee")
    shoot(page, "register-email-username")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="You are signed in")).to_be_visible()
    with admin(site) as client:
        [user] = client.get(f"{prefix}/api/users").json()
    assert (user["primaryEmail"], user["username"]) == ("Ann.Lee@example.com", "ann_lee")

    # Sign-in: one field for a number, an address or a username; a username signs in with
    # its password, and the page switches to the password by itself.
    other = browser.new_context(locale="de-DE", viewport=LAPTOP).new_page()
    other.goto(f"{base}/sign-in")
    field = other.get_by_label("Phone number, email or username")
    field.press_sequentially("01511")
    expect(other.locator("#country")).to_be_visible()  # a number: the picker shows
    field.fill("ann_lee")
    expect(other.locator("#country")).to_be_hidden()
    other.get_by_role("button", name="Send code").click()
    expect(other.locator("[data-notice]")).to_have_text(
        "Enter your password to sign in with your username."
    )
    other.locator("#password").fill("wrong " + PASSWORD)
    other.get_by_role("button", name="Sign in", exact=True).click()
    expect_error(other, "The username or the password is wrong.")
    shoot(other, "sign-in-username")

    # Forgotten after all: reset by email code, then sign in with the new password.
    other.get_by_role("link", name="Forgot password?").click()
    reset_field = other.get_by_label("Email")
    reset_field.fill("ann_lee")
    other.get_by_role("button", name="Send code").click()
    expect_error(
        other,
        "Resetting a password with a username is not available here. Use your email address.",
    )
    reset_field.fill("ann.lee@example.com")  # addresses match without regard to case
    send_code(other)
    enter_code(other, email_code(site, "ann.lee@example.com", prefix))
    other.locator("#new-password").fill(NEW_PASSWORD)
    other.locator("#confirm-password").fill(NEW_PASSWORD)
    other.get_by_role("button", name="Save password").click()
    expect(other.get_by_role("heading", name="Password changed")).to_be_visible()
    other.get_by_role("link", name="Sign in", exact=True).click()
    other.get_by_label("Phone number, email or username").fill("ann_lee")
    other.get_by_role("button", name="Sign in with a password instead").click()
    other.locator("#password").fill(NEW_PASSWORD)
    other.get_by_role("button", name="Sign in", exact=True).click()
    expect(other.get_by_role("heading", name="You are signed in")).to_be_visible()
    other.context.close()

    # The Email connector goes while a page is open: the send says so in words (not the SMS
    # sentence the same `connector.not_found` gets for a phone number).
    page.goto(f"{base}/forgot-password")
    with admin(site) as client:
        emails = client.get(f"{prefix}/api/connectors").json()
        [connector] = [c for c in emails if c["connectorId"] == "outbox-email"]
        assert client.delete(f"{prefix}/api/connectors/{connector['id']}").status_code == 204
    page.get_by_label("Email").fill(address)
    page.get_by_role("button", name="Send code").click()
    expect_error(page, EMAIL_UNAVAILABLE)
