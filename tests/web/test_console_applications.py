"""The console's Applications page over HTTP (ASGI) on both databases: create, edit and delete an
app, secrets shown once, Management API access for a machine-to-machine app, the snippet an app
needs, and every refusal in words."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from tests.web.test_console_pages import assert_page_in_words, browser, csrf_of, signed_in

from phoneauth.domain.applications import MANAGEMENT_API_ACCESS_ROLE_ID
from phoneauth.wiring import Services

__all__ = ["browser", "signed_in"]  # fixtures used here

PAGE = "/console/applications"


def created_id(html: str) -> str:
    found = re.search(r"<code data-client-id>([a-z0-9]+)</code>", html)
    assert found, html
    return found.group(1)


def shown_secret(html: str) -> str:
    found = re.search(r"<code data-new-secret>([^<]+)</code>", html)
    assert found, html
    return found.group(1)


async def test_an_app_is_created_edited_and_deleted_in_the_console(
    browser: httpx.AsyncClient,
    signed_in: str,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    csrf = signed_in
    empty = await browser.get(PAGE)
    assert empty.status_code == 200
    assert f'href="{PAGE}" aria-current="page">Applications</a>' in empty.text
    assert "No application yet" in empty.text

    refused = await browser.post(
        PAGE,
        data={
            "csrf": csrf,
            "name": "",
            "type": "SPA",
            "redirect_uris": "https://ok.example/cb\n/cb",
        },
    )
    assert_page_in_words(refused, 422, "2 fields need your attention")
    assert "Give the application a name" in refused.text
    assert "Line 2, “/cb”, must be an http(s) address" in refused.text
    assert "https://ok.example/cb\n/cb</textarea>" in refused.text  # kept as typed

    made = await browser.post(
        PAGE,
        data={
            "csrf": csrf,
            "name": "Shop",
            "type": "Traditional",
            "redirect_uris": " https://shop.example.com/callback \n\nhttps://shop.example.com/cb2",
            "post_logout_redirect_uris": "https://shop.example.com/",
        },
    )
    assert made.status_code == 200, made.text
    app_id, secret = created_id(made.text), shown_secret(made.text)
    assert len(secret) == 32
    issuer = f"{services.settings.resolved_public_url}/oidc"
    assert f"<code data-issuer>{issuer}</code>" in made.text
    assert f"<code data-discovery>{issuer}/.well-known/openid-configuration</code>" in made.text
    app = await services.applications.get("default", app_id)
    assert app.redirect_uris == (
        "https://shop.example.com/callback",
        "https://shop.example.com/cb2",
    )
    assert await services.applications.secret_matches("default", app_id, secret)

    page = await browser.get(f"{PAGE}/{app_id}")
    assert page.status_code == 200
    assert secret not in page.text  # shown once
    assert f"<code>{secret[:4]}…</code>" in page.text
    assert "<code>https://shop.example.com/cb2</code>" in page.text
    listed = await browser.get(PAGE)
    assert f'data-application="{app_id}"' in listed.text

    saved = await browser.post(
        f"{PAGE}/{app_id}",
        data={
            "csrf": csrf,
            "name": "Shop 2",
            "description": "The new shop",
            "redirect_uris": "com.example.shop://callback",
            "post_logout_redirect_uris": "",
        },
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"{PAGE}/{app_id}?done=saved")
    app = await services.applications.get("default", app_id)
    assert (app.name, app.description) == ("Shop 2", "The new shop")
    assert (app.redirect_uris, app.post_logout_redirect_uris) == (
        ("com.example.shop://callback",),
        (),
    )
    bad_edit = await browser.post(
        f"{PAGE}/{app_id}",
        data={"csrf": csrf, "name": "Shop 3", "redirect_uris": "https://x.example/#frag"},
    )
    assert_page_in_words(bad_edit, 422, "must not have a fragment")
    assert (await services.applications.get("default", app_id)).name == "Shop 2"

    rotated = await browser.post(
        f"{PAGE}/{app_id}/secrets", data={"csrf": csrf, "secret_name": "2027"}
    )
    assert rotated.status_code == 200
    second = shown_secret(rotated.text)
    again = await browser.post(
        f"{PAGE}/{app_id}/secrets", data={"csrf": csrf, "secret_name": "2027"}
    )
    assert_page_in_words(again, 422, "has a secret with this name already")
    dropped = await browser.post(
        f"{PAGE}/{app_id}/secrets/delete", data={"csrf": csrf, "secret_name": "2027"}
    )
    assert dropped.status_code == 303
    assert not await services.applications.secret_matches("default", app_id, second)

    confirm = await browser.get(f"{PAGE}/{app_id}/delete")
    assert confirm.status_code == 200
    assert "Delete Shop 2?" in confirm.text
    assert "cannot be undone" in confirm.text
    forged = await browser.post(f"{PAGE}/{app_id}/delete", data={"csrf": "wrong"})
    assert_page_in_words(forged, 403, "reload the page")
    foreign = await browser.post(
        f"{PAGE}/{app_id}/delete",
        data={"csrf": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert_page_in_words(foreign, 403, "another site")
    assert await services.applications.find("default", app_id) is not None
    deleted = await browser.post(f"{PAGE}/{app_id}/delete", data={"csrf": csrf})
    assert (deleted.status_code, deleted.headers["location"]) == (303, f"{PAGE}?done=deleted")
    assert await services.applications.find("default", app_id) is None
    assert_page_in_words(await browser.get(f"{PAGE}/{app_id}"), 404, "does not exist")

    for value in (secret, second):
        assert value not in caplog.text


async def test_a_service_gets_management_api_access_and_its_token_request(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    csrf = signed_in
    made = await browser.post(
        PAGE, data={"csrf": csrf, "name": "Robot", "type": "MachineToMachine"}
    )
    assert made.status_code == 200, made.text
    robot = created_id(made.text)
    assert "Redirect URIs" not in made.text  # a service has none
    issuer = f"{services.settings.resolved_public_url}/oidc"
    assert f"POST {issuer}/token" in made.text
    assert (
        "grant_type=client_credentials&amp;resource=https://default.logto.app/api&amp;scope=all"
        in made.text
    )
    assert "Not allowed" in made.text
    given = await browser.post(f"{PAGE}/{robot}/access", data={"csrf": csrf, "action": "give"})
    assert given.status_code == 303
    assert await services.applications.has_role("default", robot, MANAGEMENT_API_ACCESS_ROLE_ID)
    assert "data-has-access" in (await browser.get(given.headers["location"])).text
    taken = await browser.post(f"{PAGE}/{robot}/access", data={"csrf": csrf, "action": "take"})
    assert taken.status_code == 303
    assert not await services.applications.has_role("default", robot, MANAGEMENT_API_ACCESS_ROLE_ID)

    # A public app has no secret and no access; another tenant's issuer has its path.
    spa = await browser.post(PAGE, data={"csrf": csrf, "name": "Web", "type": "SPA"})
    spa_id = created_id(spa.text)
    assert "data-new-secret" not in spa.text
    assert "data-secrets" not in spa.text
    refused = await browser.post(f"{PAGE}/{spa_id}/access", data={"csrf": csrf, "action": "give"})
    assert_page_in_words(refused, 422, "Only machine-to-machine applications can hold roles.")
    switched = await browser.post(
        "/console/tenants",
        data={"csrf": csrf, "id": "staging", "name": "Staging", "kind": "development"},
    )
    assert switched.status_code == 303
    other = await browser.post(PAGE, data={"csrf": csrf, "name": "Staged", "type": "Native"})
    assert f"{services.settings.resolved_public_url}/t/staging/oidc" in other.text
    # The default tenant's app is not this tenant's.
    assert_page_in_words(await browser.get(f"{PAGE}/{spa_id}"), 404, "does not exist")
    assert csrf_of(other.text) == csrf
