"""Console: Protection: the pumping defence's rules saved by form, a paused country shown with
why and resumed by its button, today's counts; all in words (no codes, no setting names)."""

from __future__ import annotations

import httpx
from tests.web.test_console_delivery import assert_in_words
from tests.web.test_console_pages import browser, signed_in

from phoneauth.wiring import Services

__all__ = ["browser", "signed_in"]  # fixtures used here

LV = "+37125000001"


async def test_rules_saved_by_form_a_paused_country_resumed_and_todays_counts(
    browser: httpx.AsyncClient,
    signed_in: str,
    services: Services,
) -> None:
    page = await browser.get("/console/protection")
    assert_in_words(page, 200, "No country is paused")
    assert 'href="/console/protection" aria-current="page"' in page.text
    assert 'value="premiumRate">' in page.text  # refused by default: not checked
    assert 'value="mobile" checked>' in page.text

    form = {
        "csrf": signed_in,
        "allowed_countries": "",
        "denied_countries": "fr, LV",
        "number_types": ["mobile", "fixedLineOrMobile", "voip"],
        "prefix_digits": "4",
        "prefix_limit": "5",
        "prefix_window": "600",
        "daily_limit": "1000",
        "country_daily_limit": "",
        "daily_cost_limit": "50",
        "prices": "LV 0.3\nde: 0.075",
        "default_price": "0.05",
        "conversion_percent": "25",
        "conversion_min_sends": "30",
        "conversion_window": "3600",
        "suspension_seconds": "",
    }
    saved = await browser.post("/console/protection", data=form)
    assert saved.status_code == 303, saved.text
    tenant = await services.tenants.get("default")
    rules = tenant.settings.sms_protection
    assert rules.denied_countries == ["FR", "LV"]
    assert rules.prices == {"LV": 0.3, "DE": 0.075}
    assert (rules.conversion_threshold, rules.suspension_seconds, rules.daily_limit) == (
        0.25,
        None,
        1000,
    )
    assert [t.value for t in rules.allowed_number_types] == ["mobile", "fixedLineOrMobile", "voip"]

    bad = await browser.post(
        "/console/protection", data={**form, "denied_countries": "Latvia", "prefix_digits": "9"}
    )
    assert_in_words(bad, 400, "The settings were not saved")
    assert "Countries refused: " in bad.text
    assert "Digits left out of a prefix: " in bad.text
    assert 'value="LATVIA"' in bad.text  # what was typed stays in the form

    await services.sms_protection.suspend(tenant, "LV", "Reported by the carrier.")
    await services.sms_protection.check(tenant, "+4915112345678", leaves=True)  # one code today
    page = await browser.get("/console/protection")
    assert_in_words(page, 200, "Paused by an admin: Reported by the carrier.")
    assert "Latvia (LV)" in page.text
    assert "Until you resume it" in page.text
    assert "Codes requested today: <strong>1</strong> of at most 1000." in page.text
    assert "Estimated cost today: <strong>0.075</strong> of at most 50." in page.text
    assert "<td>Germany (DE)</td><td>1</td><td>0.075</td>" in page.text

    resumed = await browser.post(
        "/console/protection/suspensions/LV/resume", data={"csrf": signed_in}, follow_redirects=True
    )
    assert_in_words(resumed, 200, "Sending to this country is resumed")
    assert "No country is paused" in resumed.text
    again = await browser.post(
        "/console/protection/suspensions/LV/resume", data={"csrf": signed_in}
    )
    assert_in_words(again, 400, "This country is not suspended.")
    forged = await browser.post("/console/protection", data={**form, "csrf": "forged"})
    assert forged.status_code in (400, 403)
