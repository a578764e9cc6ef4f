"""The template editor's SMS size in a real browser: live as the admin types (the browser's copy
of the rules), with the tenant's autofill lines, a warning past one part; after the save, the
server's own figures on the connectors page; and the size in the message log.

Own module-scoped server on SQLite, as test_console_details.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browsers import laptop_page
from tests.e2e.conftest import Deployment, deploy_on_sqlite
from tests.e2e.test_console import api, new_tenant, shoot, sign_in, switch_to

from phoneauth.connectors.segments import measure

AUTOFILL = "\n@id.example.com #123456"
LONG = "Your sign-in code for the Example Company customer portal is {{code}}. " * 2
TWO_PARTS = "This message takes 2 SMS parts; each is billed."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy_on_sqlite(tmp_path_factory.mktemp("sizes"), "console-sizes-secret") as deployed:
        yield deployed


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with laptop_page(browser) as opened:
        yield opened


def figures(text: str) -> str:
    size = measure(text.replace("{{code}}", "123456") + AUTOFILL)
    alphabet = "GSM-7 (plain alphabet)" if size.encoding == "GSM-7" else "UCS-2 (Unicode)"
    parts = "1 SMS" if size.segments == 1 else f"{size.segments} SMS parts"
    return f"{size.characters} characters, {alphabet}, {parts}"


def test_the_editor_counts_as_one_types_and_the_save_warns(site: Deployment, page: Page) -> None:
    new_tenant(site, "sizes")
    with api(site) as client:
        changed = client.patch(
            "/t/sizes/api/tenant/settings", json={"webOtpDomain": "id.example.com"}
        )
        assert changed.status_code == 200, changed.text
    sign_in(site, page)
    switch_to(page, "sizes")
    page.goto(f"{site.url}/console/connectors/new/outbox-sms")
    editor = page.locator('textarea[name="cfg.templates"]')
    sizes = page.locator("[data-sms-sizes-out]")
    generic = sizes.locator('li[data-template-size="Generic"]')
    expect(sizes).to_contain_text("SMS size with a sample code and the autofill lines")
    expect(generic).to_contain_text(figures("Your verification code is {{code}}."))

    templates = [
        {"usageType": "Generic", "content": "Your code is {{code}}."},
        {"usageType": "SignIn", "content": LONG},
        {"usageType": "Register", "locale": "ru", "content": "Ваш код {{code}} 😀"},
    ]
    editor.fill(json.dumps(templates, ensure_ascii=False, indent=2))
    expect(generic).to_have_text("Generic: " + figures("Your code is {{code}}."))
    sign_in_size = sizes.locator('li[data-template-size="SignIn"]')
    expect(sign_in_size).to_contain_text(figures(LONG))
    expect(sign_in_size.locator("[data-size-warning]")).to_have_text(" " + TWO_PARTS)
    russian = sizes.locator('li[data-template-size="Register (ru)"]')
    expect(russian).to_contain_text("UCS-2 (Unicode), 1 SMS")
    expect(generic.locator("[data-size-warning]")).to_have_count(0)
    shoot(page, "template-sizes-live")

    # One more word for the short text: still one SMS; the figures follow each keystroke.
    templates[0]["content"] = "Your code is {{code}}. Thanks!"
    editor.fill(json.dumps(templates, ensure_ascii=False, indent=2))
    expect(generic).to_have_text("Generic: " + figures(templates[0]["content"]))

    # Saved with the warning (no refusal): the server's figures on the connectors page.
    page.get_by_role("button", name="Save and done").click()
    saved = page.locator("[data-template-sizes]")
    expect(saved.locator('[data-template-size="SignIn"]')).to_contain_text(figures(LONG))
    expect(saved.locator('[data-template-size="SignIn"] [data-size-warning]')).to_have_text(
        TWO_PARTS
    )
    expect(saved.locator('[data-template-size="Generic"] [data-size-warning]')).to_have_count(0)
    shoot(page, "template-sizes-saved")

    with api(site) as client:
        sent = client.post("/t/sizes/api/verification-codes", json={"phone": "+4915112345678"})
        assert sent.status_code == 204, sent.text
    page.get_by_role("link", name="Message log").click()
    size = page.locator("[data-message-log] tbody tr").first.locator("[data-size]")
    expect(size).to_have_attribute("data-segments", "1")
    generic = measure("Your code is 123456. Thanks!" + AUTOFILL)
    expect(size).to_have_text(f"1 SMS · GSM-7 · {generic.characters} characters")
