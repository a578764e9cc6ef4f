"""Console: Delivery: standby connectors added with the connectors' form, rules, circuits, all
in words (no codes, no config paths)."""

from __future__ import annotations

import httpx
from tests.web.test_console_pages import browser, signed_in

from phoneauth.domain.sms_routing import CircuitSettings
from phoneauth.wiring import Services

HTTP_SMS = "http-sms"


__all__ = ["browser", "signed_in"]  # fixtures used here


def assert_in_words(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.text, response.text
    assert "sms_routing." not in response.text
    assert "Traceback" not in response.text


async def add_standby(browser: httpx.AsyncClient, signed_in: str, endpoint: str) -> httpx.Response:
    return await browser.post(
        f"/console/delivery/new/{HTTP_SMS}",
        data={
            "csrf": signed_in,
            "cfg.endpoint": endpoint,
            "cfg.authorization": "Bearer console-secret",
        },
    )


async def test_standby_connectors_rules_and_circuits_in_words(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    page = await browser.get("/console/delivery")
    assert_in_words(page, 200, "No standby connector yet.")
    assert 'href="/console/delivery" aria-current="page"' in page.text

    choose = await browser.get("/console/delivery/new")
    assert f'/console/delivery/new/{HTTP_SMS}"' in choose.text
    form = await browser.get(f"/console/delivery/new/{HTTP_SMS}")
    assert 'name="cfg.endpoint"' in form.text

    refused = await add_standby(browser, signed_in, "not a url")
    assert_in_words(refused, 422, "Some fields need your attention.")
    added = await add_standby(browser, signed_in, "https://sms.example.com/send")
    assert (added.status_code, added.headers["location"]) == (303, "/console/delivery?done=added")
    [standby] = await services.delivery_routing.store.list_standby("default")
    listed = await browser.get("/console/delivery?done=added")
    assert_in_words(listed, 200, "HTTP SMS (standby 1)")
    assert "console-secret" not in listed.text

    rules = {
        "csrf": signed_in,
        "route_count": "1",
        "countries_0": "hk, CN",
        "route_0": [standby.id, "active"],
        "fallback": [standby.id, ""],
        "deadline": "8",
        "failure_threshold": "3",
        "cooldown": "20",
    }
    saved = await browser.post("/console/delivery", data=rules)
    assert saved.status_code == 303, saved.text
    overview = await services.delivery_routing.overview("default")
    assert overview.rules.to_document() == {
        "routes": [{"countries": ["HK", "CN"], "connectors": [standby.id, "active"]}],
        "fallback": [standby.id],
        "deadlineSeconds": 8.0,
        "circuitBreaker": {"failureThreshold": 3, "cooldownSeconds": 20.0},
    }

    bad = await browser.post("/console/delivery", data={**rules, "countries_0": "ZZ"})
    assert_in_words(bad, 400, "A route names a country that is unknown.")
    assert 'value="ZZ"' in bad.text  # the form comes back as typed
    slow = await browser.post("/console/delivery", data={**rules, "deadline": "600"})
    assert_in_words(slow, 400, "out of range")

    in_use = await browser.post(
        f"/console/delivery/connectors/{standby.id}/delete", data={"csrf": signed_in}
    )
    assert_in_words(in_use, 409, "A delivery rule still uses this standby connector.")

    breakers = services.delivery_routing.router.breakers
    breakers.get("default", standby.id, CircuitSettings(1, 30)).failed()
    health = await browser.get("/console/delivery")
    assert_in_words(health, 200, "Paused after 1 failures in a row")

    cleared = await browser.post(
        "/console/delivery", data={"csrf": signed_in, "route_count": "1", "fallback": ""}
    )
    assert cleared.status_code == 303
    deleted = await browser.post(
        f"/console/delivery/connectors/{standby.id}/delete", data={"csrf": signed_in}
    )
    assert (deleted.status_code, deleted.headers["location"]) == (
        303,
        "/console/delivery?done=deleted",
    )
