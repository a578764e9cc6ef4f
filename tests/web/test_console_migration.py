"""The console's migration page over ASGI on both databases: "Apply" applies exactly the pair and
the configurations a preview showed, and the diff compares objects field by field."""

from __future__ import annotations

import re
from typing import Any

import httpx
from tests.web.test_console_pages import browser, signed_in

from phoneauth.domain.tenant_migration import fingerprint
from phoneauth.domain.tenants import TenantKind
from phoneauth.wiring import Services

__all__ = ["browser", "signed_in"]  # fixtures used here

TWILIO = "twilio-short-message-service"


def twilio(text: str) -> dict[str, Any]:
    return {
        "accountSID": "AC123",
        "authToken": "token-one",
        "fromMessagingServiceSID": "MG123",
        "templates": [{"usageType": "Generic", "content": text}],
    }


def hidden(html: str) -> dict[str, str]:
    """The preview's hidden fields, as the browser would post them again."""
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


async def two_tenants(services: Services) -> None:
    await services.tenants.create("shop-dev", "Shop (dev)", TenantKind.DEVELOPMENT)
    await services.tenants.create("shop", "Shop", TenantKind.PRODUCTION)
    await services.tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    dev = await services.tenants.get("shop-dev")
    await services.connectors.create(dev, TWILIO, twilio("Shop code {{code}}"))


async def preview(client: httpx.AsyncClient, csrf: str, source: str, target: str) -> str:
    form = {
        "csrf": csrf,
        "source": source,
        "target": target,
        "include_secrets": "on",
        "action": "preview",
    }
    shown = await client.post("/console/tenants/migrate", data=form)
    assert shown.status_code == 200, shown.text
    return shown.text


async def active(services: Services, tenant_id: str) -> str | None:
    saved = await services.connectors.list(tenant_id)
    return saved[0].factory.id if saved else None


async def test_the_source_list_starts_at_the_tenant_in_view(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    await two_tenants(services)
    switched = await browser.post(
        "/console/tenant", data={"csrf": signed_in, "tenant": "other", "next": "/console"}
    )
    assert switched.status_code in (303, 200), switched.text
    page = (await browser.get("/console/tenants/migrate")).text
    assert re.search(r'<select id="source"[^>]*>.*?<option value="other" selected>', page, re.S)
    assert re.search(r'<select id="target"[^>]*>.*?<option value="shop" selected>', page, re.S)


async def test_apply_applies_the_previewed_pair(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    await two_tenants(services)
    page = await preview(browser, signed_in, "shop-dev", "shop")
    carried = hidden(page)
    assert carried["previewed_source"] == "shop-dev"
    assert carried["previewed_target"] == "shop"
    assert re.fullmatch(r"[0-9a-f]{64}", carried["source_fingerprint"])
    form = {
        **carried,
        "source": "shop-dev",
        "target": "shop",
        "include_secrets": "on",
        "action": "apply",
    }
    applied = await browser.post("/console/tenants/migrate", data=form)
    assert applied.status_code == 303
    assert await active(services, "shop") == TWILIO


async def test_apply_refuses_a_pair_other_than_the_previewed_one(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    await two_tenants(services)
    carried = hidden(await preview(browser, signed_in, "shop-dev", "shop"))
    form = {
        **carried,
        "source": "shop-dev",
        "target": "other",
        "include_secrets": "on",
        "action": "apply",
    }
    refused = await browser.post("/console/tenants/migrate", data=form)
    assert refused.status_code == 409
    assert "The selection changed after the preview, so nothing was applied." in refused.text
    # The page now previews the new pair, which a second "Apply" may apply.
    assert hidden(refused.text)["previewed_target"] == "other"
    assert await active(services, "other") is None
    assert await active(services, "shop") is None


async def test_apply_without_a_preview_is_refused(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    await two_tenants(services)
    form = {
        "csrf": signed_in,
        "source": "shop-dev",
        "target": "shop",
        "include_secrets": "on",
        "action": "apply",
    }
    refused = await browser.post("/console/tenants/migrate", data=form)
    assert refused.status_code == 409
    assert "Show the changes first" in refused.text
    assert await active(services, "shop") is None


async def test_apply_refuses_when_the_source_changed_since_the_preview(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    await two_tenants(services)
    carried = hidden(await preview(browser, signed_in, "shop-dev", "shop"))
    dev = await services.tenants.get("shop-dev")
    await services.connectors.create(dev, TWILIO, twilio("Changed {{code}}"))
    form = {
        **carried,
        "source": "shop-dev",
        "target": "shop",
        "include_secrets": "on",
        "action": "apply",
    }
    refused = await browser.post("/console/tenants/migrate", data=form)
    assert refused.status_code == 409
    assert "The configuration of shop-dev changed since the preview" in refused.text
    assert "Changed {{code}}" in refused.text  # the diff shown is the current one
    assert await active(services, "shop") is None


async def test_a_forged_fingerprint_is_refused(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    await two_tenants(services)
    carried = hidden(await preview(browser, signed_in, "shop-dev", "shop"))
    carried["target_fingerprint"] = "0" * 64
    form = {
        **carried,
        "source": "shop-dev",
        "target": "shop",
        "include_secrets": "on",
        "action": "apply",
    }
    refused = await browser.post("/console/tenants/migrate", data=form)
    assert refused.status_code == 409
    assert "The configuration of shop changed since the preview" in refused.text


async def test_the_sign_in_settings_are_compared_field_by_field(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    await two_tenants(services)
    dev = await services.sign_in_experience.current("shop-dev")
    sign_up = type(dev.sign_up).model_validate(
        {"identifiers": ["phone"], "password": True, "verify": True}
    )
    await services.sign_in_experience.update("shop-dev", {"sign_up": sign_up}, services.connectors)
    page = await preview(browser, signed_in, "shop-dev", "shop")
    rows = re.findall(r'<tr class="(changed|same)" data-field-row="([^"]+)"', page)
    group = page.split('data-change="signInExperience.signUp"')[1].split("</tbody>")[0]
    assert set(re.findall(r'data-field-row="([^"]+)"', group)) == {
        "identifiers",
        "password",
        "verify",
        "secondaryIdentifiers",
    }
    assert '<tr class="changed" data-field-row="password" data-changed>' in group
    assert '<tr class="same" data-field-row="verify">' in group  # shown, not highlighted
    assert ("changed", "content") in rows  # the template's text, inside connector.templates
    assert "token-one" not in page


def test_a_fingerprint_is_keyed_and_follows_the_document() -> None:
    document = {"a": 1, "b": [1, 2]}
    same = fingerprint({"b": [1, 2], "a": 1}, b"key")
    assert fingerprint(document, b"key") == same
    assert fingerprint(document, b"other key") != same
    assert fingerprint({"a": 2, "b": [1, 2]}, b"key") != same
