"""The end-user pages as HTML: what the sign-in experience lets them offer, and where they send.

The flows themselves run in a real browser (tests/e2e/test_pages.py); here each rule of the pages
is checked over HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import gzip
import hashlib
import html as html_module
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount
from tests.web.experience.support import (
    PHONE_CODE_SIGN_IN,
    PHONE_PASSWORD_SIGN_IN,
    experience,
    use_experience,
)

from phoneauth.domain.sessions import SESSION_COOKIE
from phoneauth.web.pages import (
    EMAIL_UNAVAILABLE,
    SMS_UNAVAILABLE,
    country_options,
    display_phone,
)
from phoneauth.web.phone_input import countries, default_region, format_as_typed
from phoneauth.web.static_assets import IMMUTABLE, REVALIDATE, StaticAssets
from phoneauth.wiring import Services

PHONE = "+4915112345678"
TWILIO = {  # a production tenant's connector; these pages send nothing
    "connectorId": "twilio-short-message-service",
    "config": {
        "accountSID": "AC" + "0" * 32,
        "authToken": "auth-token",
        "fromMessagingServiceSID": "+15005550006",
        "templates": [{"usageType": "Generic", "content": "Code {{code}}"}],
    },
}
BOTH_METHODS = {**PHONE_CODE_SIGN_IN, "password": True, "isPasswordPrimary": False}


@pytest.fixture
async def visitor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser without an admin key, with its own cookie jar."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


@pytest.fixture
async def outbox(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    assert created.status_code == 200, created.text


async def html(client: httpx.AsyncClient, path: str, **headers: str) -> str:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def selected_region(page: str) -> str:
    found = re.search(r'<option value="([A-Z]{2})"[^>]*\sselected>', page)
    assert found is not None
    return found.group(1)


# --- what the sign-in experience lets the pages offer -------------------------------------------


async def test_the_default_sign_in_page_offers_a_code_and_registration(
    visitor: httpx.AsyncClient, outbox: None
) -> None:
    response = await visitor.get("/sign-in", headers={"accept-language": "de-DE,de;q=0.9"})
    page = response.text
    assert response.status_code == 200
    assert 'href="/register"' in page
    assert 'id="password"' not in page
    assert "Forgot password?" not in page
    assert "data-outbox-banner" in page  # the outbox is the connector: codes go there
    assert 'data-api="/api"' in page
    assert selected_region(page) == "DE"
    assert page.count("<option ") == len(countries())
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "<script>" not in page  # every script is a file under /static
    assert response.headers["cache-control"] == "no-store"


async def test_each_visitor_gets_their_own_country_and_example_in_turn(
    visitor: httpx.AsyncClient, outbox: None
) -> None:
    """The options are rendered once per country and kept: each page still preselects the
    visitor's own, with its example number as the placeholder."""
    for language, region, example in [
        ("de-DE", "DE", "01512 3456789"),
        ("fr-FR", "FR", "06 12 34 56 78"),
        ("de-DE", "DE", "01512 3456789"),
    ]:
        response = await visitor.get("/sign-in", headers={"accept-language": language})
        page = response.text
        assert selected_region(page) == region
        assert page.count(" selected>") == 1
        assert f'placeholder="{example}"' in page
        assert page.count("<option ") == len(countries())


async def test_password_sign_in_shows_the_password_and_forgot_link(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    await use_experience(services, experience(password=True, methods=[PHONE_PASSWORD_SIGN_IN]))
    page = await html(visitor, "/sign-in")
    assert 'id="password"' in page
    assert 'href="/forgot-password"' in page
    assert 'data-password-first="true"' in page
    assert "Sign in with a code instead" not in page  # no code method to switch to
    reset = await html(visitor, "/forgot-password")
    assert 'data-flow="forgot-password"' in reset
    assert "Choose a new password" in reset


async def test_a_kept_page_gives_way_to_a_changed_setting_at_the_next_load(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    """The pages are kept as rendered (`rendered_pages`), by everything they show."""
    first = await html(visitor, "/sign-in")
    assert await html(visitor, "/sign-in") == first
    assert 'id="password"' not in first
    await use_experience(services, experience(password=True, methods=[PHONE_PASSWORD_SIGN_IN]))
    changed = await html(visitor, "/sign-in")
    assert 'id="password"' in changed
    assert 'href="/forgot-password"' in changed


@dataclass(frozen=True)
class Sent:
    """An answer as sent: its body not decoded (httpx would undo gzip)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


async def raw(client: httpx.AsyncClient, method: str, path: str, coding: str) -> Sent:
    async with client.stream(method, path, headers={"accept-encoding": coding}) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return Sent(response.status_code, response.headers, body)


@pytest.mark.parametrize("path", ["/sign-in", "/register"])
async def test_a_kept_page_comes_gzip_compressed_to_a_browser_that_takes_it(
    visitor: httpx.AsyncClient, outbox: None, path: str
) -> None:
    plain = await raw(visitor, "GET", path, "identity")
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"  # a cache keeps the two apart
    assert b"<option " in plain.content
    for coding in ("gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "x-gzip", "*"):
        packed = await raw(visitor, "GET", path, coding)
        assert packed.status_code == 200
        assert packed.headers["content-encoding"] == "gzip", coding
        assert packed.headers["vary"] == "Accept-Encoding"
        assert packed.headers["content-type"] == plain.headers["content-type"]
        assert packed.headers["cache-control"] == "no-store"
        assert gzip.decompress(packed.content) == plain.content
        assert len(packed.content) * 3 < len(plain.content)
        assert int(packed.headers["content-length"]) == len(packed.content)
    head = await raw(visitor, "HEAD", path, "gzip")
    assert head.content == b""
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == packed.headers["content-length"]
    for refused in ("gzip;q=0", "gzip;q=0, *", "deflate, br", "*;q=0"):
        assert "content-encoding" not in (await raw(visitor, "GET", path, refused)).headers


async def test_a_page_that_is_not_kept_is_never_compressed(
    services: Services, visitor: httpx.AsyncClient
) -> None:
    """Only the pages every visitor sees alike: an account page holds a person's own data."""
    await signed_in(services, visitor)
    account = await raw(visitor, "GET", "/account", "gzip")
    assert account.status_code == 200
    assert "+49 1511 2345678" in account.content.decode()
    assert "content-encoding" not in account.headers
    missing = await raw(visitor, "GET", "/t/nowhere/sign-in", "gzip")
    assert missing.status_code == 404
    assert "content-encoding" not in missing.headers


async def test_both_methods_start_with_the_code_and_offer_the_password(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    await use_experience(services, experience(methods=[BOTH_METHODS]))
    page = await html(visitor, "/sign-in")
    assert 'data-password-first="false"' in page
    assert "Sign in with a password instead" in page
    assert re.search(r"<div data-password-field\s+hidden>", page)


async def test_no_forgot_password_without_an_sms_connector(
    services: Services, visitor: httpx.AsyncClient
) -> None:
    await use_experience(services, experience(methods=[PHONE_PASSWORD_SIGN_IN]))
    assert "Forgot password?" not in await html(visitor, "/sign-in")
    assert "Password reset is not available" in await html(visitor, "/forgot-password")


async def test_no_forgot_password_when_the_methods_leave_out_phone(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    await use_experience(services, experience(methods=[PHONE_PASSWORD_SIGN_IN], forgot=[]))
    assert "Forgot password?" not in await html(visitor, "/sign-in")
    assert "Password reset is not available" in await html(visitor, "/forgot-password")


async def test_sign_in_only_hides_registration(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    await use_experience(services, experience(mode="SignIn"))
    assert 'href="/register"' not in await html(visitor, "/sign-in")
    closed = await html(visitor, "/register")
    assert "Registration is closed" in closed
    assert 'href="/sign-in"' in closed
    assert "data-flow" not in closed


async def test_register_only_closes_sign_in(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    await use_experience(services, experience(mode="Register"))
    closed = await html(visitor, "/sign-in")
    assert "Sign-in is not available" in closed
    assert "Signing in with a phone number is turned off here." in closed
    assert 'href="/register"' in closed
    assert 'href="/sign-in"' not in await html(visitor, "/register")


async def test_no_phone_sign_up_means_no_registration(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    await use_experience(services, experience(identifiers=["username"]))
    closed = await html(visitor, "/register")
    assert "Registration is closed" in closed
    assert "New accounts cannot be created here." in closed


# --- without an SMS connector -------------------------------------------------------------------

RAW_TEXTS = ("connector", "Cannot find any available", "Sms", "turned off here")


def says_sms_is_unavailable(page: str) -> None:
    """The friendly sentence, no form to fill in, and nothing of the configuration."""
    assert SMS_UNAVAILABLE == "Sign-in by text message is not available right now."
    assert SMS_UNAVAILABLE in page
    assert "data-flow" not in page
    for raw in RAW_TEXTS:
        assert raw not in page


@pytest.mark.parametrize("path", ["/sign-in", "/register", "/forgot-password"])
async def test_a_fresh_install_says_sign_in_by_text_is_not_available(
    visitor: httpx.AsyncClient, path: str
) -> None:
    says_sms_is_unavailable(await html(visitor, path))


async def test_a_new_tenant_says_so_until_its_connector_is_saved(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient
) -> None:
    created = await api.post("/api/tenants", json={"id": "fresh", "name": "Fresh"})
    assert created.status_code == 201, created.text
    says_sms_is_unavailable(await html(visitor, "/t/fresh/sign-in"))
    saved = await api.post("/t/fresh/api/connectors", json={"connectorId": "outbox-sms"})
    assert saved.status_code == 200, saved.text
    page = await html(visitor, "/t/fresh/sign-in")
    assert 'data-flow="sign-in"' in page
    assert 'data-code-sign-in="true"' in page
    # Only the script's table of sentences holds it, for a send that fails later.
    shown = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)
    assert SMS_UNAVAILABLE not in shown


async def test_a_deleted_connector_closes_code_pages_in_words(
    api: httpx.AsyncClient, services: Services, visitor: httpx.AsyncClient
) -> None:
    """ "Delete anyway" under a saved phone-code experience: the pages say it, never the error."""
    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text
    await use_experience(services, experience())
    deleted = await api.delete(f"/api/connectors/{created.json()['id']}?force=true")
    assert deleted.status_code == 204
    for path in ("/sign-in", "/register"):
        says_sms_is_unavailable(await html(visitor, path))


async def test_without_sms_a_password_method_still_signs_in_but_offers_no_code(
    services: Services, visitor: httpx.AsyncClient
) -> None:
    await use_experience(services, experience(password=True, methods=[BOTH_METHODS]))
    page = await html(visitor, "/sign-in")
    assert 'data-code-sign-in="false"' in page
    assert 'data-password-first="true"' in page
    assert "Sign in with a code instead" not in page
    assert 'href="/register"' not in page  # registering verifies the number by SMS


MESSAGES_SCRIPT = re.compile(r'<script src="(/static/messages\.js\?v=[0-9a-f]+)" defer>')


async def page_sentences(visitor: httpx.AsyncClient, path: str) -> dict[str, str]:
    """The sentences the page's scripts show, from the `messages.js` the page loads."""
    page = await html(visitor, path)
    found = MESSAGES_SCRIPT.search(page)
    assert found, page
    # Before the scripts that read it: deferred scripts run in the order of the page.
    assert page.index("messages.js") < page.index("phone.js"), page
    script = (await visitor.get(found.group(1))).text
    prefix, suffix = "window.phoneauthMessages = ", ";\n"
    assert script.startswith(prefix), script[:80]
    assert script.endswith(suffix), script[-80:]
    sentences: dict[str, str] = json.loads(script.removeprefix(prefix).removesuffix(suffix))
    return sentences


async def test_the_pages_load_a_sentence_for_every_error_code(
    visitor: httpx.AsyncClient, outbox: None
) -> None:
    """The Experience API keeps Logto's `connector.*` codes and messages; the page's scripts
    show the end-user sentence of each code (the browser test sees it happen)."""
    sentences = await page_sentences(visitor, "/sign-in")
    assert sentences["connector.not_found"] == SMS_UNAVAILABLE
    assert sentences["connector.invalid_response"] == SMS_UNAVAILABLE
    assert sentences["verification_code.code_mismatch"].startswith("The code is wrong.")
    assert sentences[""] == "Something went wrong. Please try again."
    assert "window.phoneauthMessages" in (await visitor.get("/static/experience.js")).text


async def test_the_sentences_are_not_in_the_page_but_in_a_file_browsers_keep(
    visitor: httpx.AsyncClient, outbox: None
) -> None:
    """16 KB of the sign-in page's 44 were the sentences, sent again on every view of a page
    that must not be cached; now a file named by its content, kept for a year."""
    page = await html(visitor, "/sign-in")
    assert "The code is wrong." not in page
    assert len(page.encode()) < 32_000
    path = MESSAGES_SCRIPT.search(page)
    assert path, page
    response = await visitor.get(path.group(1))
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["content-type"].startswith("text/javascript")
    again = await visitor.get(path.group(1), headers={"If-None-Match": response.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    unnamed = await visitor.get("/static/messages.js")
    assert (unnamed.status_code, unnamed.headers["cache-control"]) == (200, REVALIDATE)
    assert unnamed.content == response.content
    head = await visitor.head(path.group(1))
    assert (head.status_code, head.content) == (200, b"")
    refused = await visitor.post(path.group(1))
    assert (refused.status_code, refused.headers.get("allow")) == (405, "GET, HEAD")


# --- tenants ------------------------------------------------------------------------------------


async def test_a_tenant_has_its_own_pages_and_production_has_no_banner(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient
) -> None:
    created = await api.post(
        "/api/tenants", json={"id": "shop", "name": "<b>Shop</b>", "kind": "production"}
    )
    assert created.status_code == 201, created.text
    connector = await api.post("/t/shop/api/connectors", json=TWILIO)
    assert connector.status_code == 200, connector.text
    page = await html(visitor, "/t/shop/sign-in")
    assert 'data-api="/t/shop/api"' in page
    assert 'data-base="/t/shop"' in page
    assert 'href="/t/shop/register"' in page
    assert "data-outbox-banner" not in page
    assert "&lt;b&gt;Shop&lt;/b&gt;" in page
    assert "<b>Shop</b>" not in page


@pytest.mark.parametrize(
    "path", ["/t/nowhere/sign-in", "/t/nowhere/register", "/t/nowhere/account"]
)
async def test_an_unknown_tenant_gets_a_page_not_json(
    visitor: httpx.AsyncClient, path: str
) -> None:
    response = await visitor.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text


async def test_the_home_page_leads_to_the_account(visitor: httpx.AsyncClient) -> None:
    root = await visitor.get("/")
    assert (root.status_code, root.headers["location"]) == (303, "/account")
    tenant = await visitor.get("/t/acme/")
    assert (tenant.status_code, tenant.headers["location"]) == (303, "/t/acme/account")


@pytest.mark.parametrize(
    "path", ["/sign-in", "/register", "/forgot-password", "/invitations/x", "/t/acme/sign-in"]
)
async def test_a_form_sent_without_its_script_shows_the_page_again(
    visitor: httpx.AsyncClient, path: str
) -> None:
    response = await visitor.post(path, data={"phone": "1", "password": "secret"})
    assert (response.status_code, response.headers["location"]) == (303, path)


async def test_static_files_are_served(visitor: httpx.AsyncClient) -> None:
    for name in ("experience.js", "phone.js", "phoneauth.css"):
        response = await visitor.get(f"/static/{name}")
        assert response.status_code == 200, name


# --- their files: named by a digest of their content, kept by browsers while it holds ---------

STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]+)"')


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:12]


@pytest.mark.usefixtures("outbox")
async def test_each_page_names_its_files_by_their_content_and_browsers_keep_them(
    visitor: httpx.AsyncClient,
) -> None:
    linked: dict[str, str] = {}
    for page in ("/sign-in", "/register", "/forgot-password", "/console/sign-in"):
        response = await visitor.get(page, follow_redirects=True)  # the console: to its setup
        assert response.status_code == 200, page
        linked |= dict(STATIC_LINK.findall(response.text))
    # The stylesheet, the icon and the scripts the pages and the console load.
    assert {"phoneauth.css", "favicon.svg", "phone.js", "experience.js", "messages.js"} <= {
        Path(path).name for path in linked
    }
    for path, digest in linked.items():
        response = await visitor.get(f"{path}?v={digest}")
        assert response.status_code == 200, path
        assert digest == _digest(response.content), path
        assert response.headers["cache-control"] == IMMUTABLE


@pytest.mark.usefixtures("outbox")
async def test_the_files_go_gzip_compressed_to_a_browser_that_takes_it(
    visitor: httpx.AsyncClient,
) -> None:
    page = await html(visitor, "/sign-in")
    linked = dict(STATIC_LINK.findall(page))
    assert len(linked) >= 6  # the stylesheet, the icon, four scripts
    plain_bytes = packed_bytes = 0
    for path, digest in linked.items():
        url = f"{path}?v={digest}"
        plain = await raw(visitor, "GET", url, "identity")
        packed = await raw(visitor, "GET", url, "gzip, deflate, br")
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == "gzip", path
        assert plain.headers["vary"] == packed.headers["vary"] == "Accept-Encoding"
        assert packed.headers["content-type"] == plain.headers["content-type"]
        assert packed.headers["cache-control"] == plain.headers["cache-control"] == IMMUTABLE
        assert gzip.decompress(packed.content) == plain.content
        assert _digest(plain.content) == digest
        # Two representations, two entity tags; each is answered 304 while it holds.
        assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
        for sent, coding in ((packed, "gzip"), (plain, "identity")):
            again = await visitor.get(
                url, headers={"If-None-Match": sent.headers["etag"], "Accept-Encoding": coding}
            )
            assert (again.status_code, again.content) == (304, b""), path
        head = await raw(visitor, "HEAD", url, "gzip")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(packed.content))
        plain_bytes += len(plain.content)
        packed_bytes += len(packed.content)
    assert packed_bytes * 3 < plain_bytes


async def test_a_file_asked_for_by_another_name_is_checked_again_each_time(
    visitor: httpx.AsyncClient,
) -> None:
    for query in ("", "?v=0.1.0", "?v=" + "0" * 12):
        response = await visitor.get(f"/static/phoneauth.css{query}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == REVALIDATE
        again = await visitor.get(
            f"/static/phoneauth.css{query}", headers={"If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.headers["cache-control"] == REVALIDATE
    assert (await visitor.get("/static/missing.css?v=1")).status_code == 404


async def test_a_changed_file_gets_a_new_name_and_the_old_name_is_no_longer_kept(
    tmp_path: Path,
) -> None:
    (tmp_path / "site.css").write_text("body { color: black }")
    before = StaticAssets(tmp_path)
    (tmp_path / "site.css").write_text("body { color: navy }")
    after = StaticAssets(tmp_path)  # the next start of the service, with the new release
    assert before.url("site.css") != after.url("site.css")
    assert after.url("site.css").startswith("/static/site.css?v=")
    with pytest.raises(KeyError):
        after.url("missing.css")
    app = Starlette(routes=[Mount("/static", after)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        old = await client.get(before.url("site.css"))
        new = await client.get(after.url("site.css"))
    assert (old.text, old.headers["cache-control"]) == ("body { color: navy }", REVALIDATE)
    assert (new.text, new.headers["cache-control"]) == ("body { color: navy }", IMMUTABLE)


# --- the account page -------------------------------------------------------------------------


async def signed_in(services: Services, client: httpx.AsyncClient, phone: str = PHONE) -> Any:
    user = await services.users.create("default", phone=phone)
    issued = await services.sessions.sign_in(user)
    client.cookies.set(SESSION_COOKIE, issued.cookie_token)
    return user


async def test_the_account_needs_a_session(visitor: httpx.AsyncClient) -> None:
    anonymous = await visitor.get("/account")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/sign-in")
    visitor.cookies.set(SESSION_COOKIE, "forged")
    forged = await visitor.get("/account")
    assert (forged.status_code, forged.headers["location"]) == (303, "/sign-in")


async def test_the_account_shows_the_phone_and_signing_out_ends_the_session(
    services: Services, visitor: httpx.AsyncClient
) -> None:
    await signed_in(services, visitor)
    page = await html(visitor, "/account")
    assert "+49 1511 2345678" in page
    assert 'action="/sign-out"' in page

    out = await visitor.post("/sign-out")
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in")
    cleared = [h for h in out.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    assert cleared
    assert all("Max-Age=0" in header for header in cleared)
    # The browser kept the old cookie: the session itself has ended.
    again = await visitor.get("/account")
    assert again.headers["location"] == "/sign-in"


async def test_a_session_of_a_deleted_user_leads_to_sign_in(
    services: Services, visitor: httpx.AsyncClient
) -> None:
    user = await signed_in(services, visitor)
    assert await services.users.delete("default", user.id)
    response = await visitor.get("/account")
    assert response.headers["location"] == "/sign-in"


async def test_the_account_names_a_joined_organization_only_to_a_member(
    services: Services, visitor: httpx.AsyncClient
) -> None:
    await signed_in(services, visitor)
    organization = await services.organizations.create("default", "Acme", None)
    page = await html(visitor, f"/account?joined={organization.id}")
    assert "You joined" not in page
    assert "Acme" not in page


# --- invitations ---------------------------------------------------------------------------------


async def invite(api: httpx.AsyncClient, phone: str = PHONE) -> tuple[str, str]:
    organization = await api.post("/api/organizations", json={"name": "Acme Rockets"})
    assert organization.status_code == 201, organization.text
    invitation = await api.post(
        "/api/organization-invitations",
        json={"organizationId": organization.json()["id"], "invitee": phone},
    )
    assert invitation.status_code == 201, invitation.text
    return organization.json()["id"], invitation.json()["id"]


async def test_an_invitation_page_names_the_organization_and_masks_the_phone(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient, outbox: None
) -> None:
    _, invitation_id = await invite(api)
    page = await html(visitor, f"/invitations/{invitation_id}")
    assert "Join Acme Rockets" in page
    assert "+4915*****5678" in page
    assert PHONE not in page
    assert f'data-invitation="{invitation_id}"' in page


async def test_a_revoked_invitation_says_so(
    api: httpx.AsyncClient, visitor: httpx.AsyncClient, outbox: None
) -> None:
    _, invitation_id = await invite(api)
    assert (await api.delete(f"/api/organization-invitations/{invitation_id}")).status_code == 204
    page = await html(visitor, f"/invitations/{invitation_id}")
    assert "This invitation has been withdrawn." in page
    assert "data-flow" not in page


async def test_an_unknown_invitation_is_a_404_page(visitor: httpx.AsyncClient) -> None:
    response = await visitor.get("/invitations/nope")
    assert response.status_code == 404
    assert "Invitation not found" in response.text


# --- the phone field ------------------------------------------------------------------------------


async def test_phone_format_formats_as_typed_and_names_the_valid_number(
    visitor: httpx.AsyncClient,
) -> None:
    partial = await visitor.post("/api/phone-format", json={"region": "DE", "digits": "01511"})
    assert partial.status_code == 200
    assert partial.json() == {
        "formatted": "01511",
        "e164": None,
        "international": None,
        "region": None,
    }
    whole = await visitor.post("/api/phone-format", json={"region": "de", "digits": "015112345678"})
    assert whole.json() == {
        "formatted": "01511 2345678",
        "e164": PHONE,
        "international": "+49 1511 2345678",
        "region": "DE",
    }
    abroad = await visitor.post(
        "/t/default/api/phone-format", json={"region": "DE", "digits": "+44 7400 123456"}
    )
    assert abroad.json()["region"] == "GB"
    assert abroad.json()["e164"] == "+447400123456"
    empty = await visitor.post("/api/phone-format", json={"region": "DE"})
    assert empty.json()["formatted"] == ""


async def test_phone_format_takes_no_number_in_the_url(visitor: httpx.AsyncClient) -> None:
    """A number in a query string ends up in access logs: GET is not offered at all."""
    response = await visitor.get(
        "/api/phone-format", params={"region": "DE", "digits": "015112345678"}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["code"] == "request.method_not_allowed"


@pytest.mark.parametrize(
    "body",
    [
        {"region": "QQ", "digits": "1"},
        {"region": "DEU", "digits": "1"},
        {"region": "DE", "digits": "0151abc"},
        {"region": "DE", "digits": "1" * 33},
        {"digits": "1"},
        {"region": "DE", "digits": "1", "extra": True},
        ["DE", "1"],
    ],
)
async def test_phone_format_refuses_bad_input_in_words(
    visitor: httpx.AsyncClient, body: Any
) -> None:
    response = await visitor.post("/api/phone-format", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "guard.invalid_input"
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("header", "region"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "DE"),
        ("fr", "FR"),
        ("pt", "BR"),
        ("en-GB", "GB"),
        ("zh_TW", "TW"),
        ("en;q=0.1, ja-JP;q=0.9", "JP"),
        ("xx, es;q=0.5", "ES"),
        ("sr-Latn-RS", "RS"),
        ("de;q=oops, it", "IT"),
        ("en-ZZ", "US"),
        ("*", "US"),
        ("", "US"),
        (None, "US"),
    ],
)
def test_the_country_comes_from_accept_language(header: str | None, region: str) -> None:
    assert default_region(header) == region


async def test_the_page_preselects_the_visitors_country(
    visitor: httpx.AsyncClient, outbox: None
) -> None:
    page = await html(visitor, "/register", **{"accept-language": "fr-CH, fr;q=0.9"})
    assert selected_region(page) == "CH"
    assert 'placeholder="078 123 45 67"' in page


async def test_country_names_beyond_ascii_reach_the_browser_as_written(
    visitor: httpx.AsyncClient, outbox: None
) -> None:
    page = await html(visitor, "/sign-in", **{"accept-language": "fr-CI"})
    # Sent as character references, so the page itself is ASCII (a page with a few such
    # letters was a wide string: slower to build and to encode); the browser reads the names.
    assert page.isascii()
    options = dict(re.findall(r'<option value="([A-Z]{2})"[^>]*>([^<]*)</option>', page))
    assert html_module.unescape(options["CI"]) == "C\u00f4te d\u2019Ivoire (+225)"
    assert html_module.unescape(options["CW"]) == "Cura\u00e7ao (+599)"
    assert selected_region(page) == "CI"
    assert "<title>Sign in &middot; " in page


def test_the_picker_preselects_each_listed_region_and_only_it() -> None:
    for country in countries():
        options = str(country_options(country.region))
        assert re.findall(r'<option value="([A-Z]{2})"[^>]*\sselected>', options) == [
            country.region
        ]
        assert options.count("<option ") == len(countries())
    assert " selected" not in country_options("ZZ")  # not listed: nothing preselected


def test_the_country_list_covers_every_region_by_name() -> None:
    listed = {country.region: country for country in countries()}
    assert listed["DE"].name == "Germany"
    assert listed["DE"].calling_code == 49
    assert listed["AC"].name == "Ascension Island"
    names = [country.name for country in countries()]
    assert names.index("Åland Islands") < names.index("Albania")
    assert all(country.example for country in countries())


def test_format_as_typed_ignores_separators() -> None:
    assert format_as_typed("US", "(201) 555-0123").e164 == "+12015550123"
    assert format_as_typed("US", "").formatted == ""
    assert display_phone(None) is None


async def test_the_account_offers_only_what_the_account_center_lets_users_edit(
    services: Services, visitor: httpx.AsyncClient, api: httpx.AsyncClient, outbox: None
) -> None:
    await signed_in(services, visitor)
    # Logto's default: the account center is off, so nothing is offered that would be refused.
    page = await html(visitor, "/account")
    assert "Text me a code" not in page
    assert 'data-choose="phone"' not in page

    center = {"enabled": True, "fields": {"password": "Edit"}}
    assert (await api.patch("/api/account-center", json=center)).status_code == 200
    page = await html(visitor, "/account")
    assert "Text me a code" in page
    assert "Set a password" in page
    assert 'data-choose="phone"' not in page

    center = {"enabled": True, "fields": {"password": "Edit", "phone": "Edit"}}
    assert (await api.patch("/api/account-center", json=center)).status_code == 200
    page = await html(visitor, "/account")
    assert "Change your phone number or password" in page
    assert 'data-choose="phone"' in page

    # The email address is offered only with an Email connector to send its code.
    center = {"enabled": True, "fields": {"password": "Edit", "phone": "Edit", "email": "Edit"}}
    assert (await api.patch("/api/account-center", json=center)).status_code == 200
    assert 'data-choose="email"' not in await html(visitor, "/account")
    assert (await api.post("/api/connectors", json={"connectorId": "outbox-email"})).is_success
    page = await html(visitor, "/account")
    assert "Change your phone number, email address or password" in page
    assert 'data-choose="email"' in page
    assert "Add an email address" in page


# --- email and username, as the sign-in experience allows ---------------------------------------


def method(identifier: str, *, password: bool = False, code: bool = False) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "password": password,
        "verificationCode": code,
        "isPasswordPrimary": password,
    }


def page_script(page: str) -> dict[str, Any]:
    """What the page tells its script: the kinds its field accepts, how each signs in."""
    block = re.search(r'<script type="application/json" id="phoneauth-page">(.*?)</script>', page)
    assert block, page
    found: dict[str, Any] = json.loads(block.group(1))
    return found


@pytest.fixture
async def email_outbox(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/connectors", json={"connectorId": "outbox-email"})
    assert created.status_code == 200, created.text


async def test_one_field_takes_what_the_sign_in_methods_name(
    services: Services, visitor: httpx.AsyncClient, outbox: None, email_outbox: None
) -> None:
    await use_experience(
        services,
        experience(
            identifiers=["email"],
            password=True,
            methods=[
                method("phone", code=True),
                method("email", code=True),
                method("username", password=True),
            ],
            forgot=["EmailVerificationCode"],
        ),
    )
    page = await html(visitor, "/sign-in")
    assert (
        '<label for="identifier" data-identifier-label>Phone number, email or username</label>'
        in page
    )
    assert "data-country-row hidden" in page  # shown once what is typed looks like a number
    assert 'href="/forgot-password"' in page
    # Logto's isPasswordPrimary: the password form first; codes are a click away.
    assert 'data-password-first="true"' in page
    assert "Sign in with a code instead" in page
    assert "Enter your username and password." in page
    banner = "Development tenant: codes go to the outbox, not to real phones or inboxes."
    assert f"data-outbox-banner>{banner}" in page
    script = page_script(page)
    assert script["kinds"] == ["phone", "email", "username"]
    assert script["methods"]["username"] == {"password": True, "code": False}
    assert script["methods"]["email"] == {"password": False, "code": True}
    assert script["registerKinds"] == ["email"]  # an unknown address may become an account
    assert script["intro"]["code"] == "We will send you a code to sign in."

    reset = await html(visitor, "/forgot-password")
    assert "Enter your email address and we will email you a code." in reset
    assert 'type="email"' in reset
    assert page_script(reset)["refusals"]["username"] == (
        "Resetting a password with a username is not available here. Use your email address."
    )


async def test_registration_asks_for_what_the_sign_up_identifiers_name(
    services: Services, visitor: httpx.AsyncClient, outbox: None, email_outbox: None
) -> None:
    both = [method("phone", code=True), method("email", code=True)]
    await use_experience(services, experience(identifiers=["email", "phone"], methods=both))
    page = await html(visitor, "/register")
    assert "data-identifier-label>Phone number or email</label>" in page
    assert "We will send you a code to confirm your phone number or email address." in page
    assert page_script(page)["refusals"]["username"] == (
        "Creating an account with a username is not available here. "
        "Use your phone number or email address."
    )
    assert 'data-step="bind"' not in page  # the first step gives what sign-up needs

    # A username with its password first; the email address sign-up also wants comes after.
    await use_experience(
        services,
        {
            **experience(identifiers=["username"], password=True, methods=both),
            "signUp": {
                "identifiers": ["username"],
                "password": True,
                "verify": True,
                "secondaryIdentifiers": [{"identifier": "email", "verify": True}],
            },
        },
    )
    page = await html(visitor, "/register")
    assert 'data-first-step="username"' in page
    assert "Choose a username and a password." in page
    assert 'data-step="bind"' in page
    assert 'id="bind-country"' not in page  # only an email address can be asked for
    assert page_script(page)["kinds"] == ["username"]


async def test_without_an_email_connector_the_pages_say_so_in_words(
    services: Services, visitor: httpx.AsyncClient, outbox: None
) -> None:
    email_code = [method("email", code=True)]
    await use_experience(services, experience(identifiers=["email"], methods=email_code))
    for path in ("/sign-in", "/register"):
        page = await html(visitor, path)
        assert EMAIL_UNAVAILABLE in page
        assert "data-flow" not in page
        for raw in ("connector", "Cannot find any available", "Email connector"):
            assert raw not in page

    # Phone still works; an address typed in the field is answered with the same sentence.
    await use_experience(
        services,
        experience(identifiers=["phone"], methods=[PHONE_CODE_SIGN_IN, *email_code]),
    )
    page = await html(visitor, "/sign-in")
    assert 'id="phone"' in page  # the phone field with its picker, as before
    assert page_script(page)["refusals"]["email"] == EMAIL_UNAVAILABLE

    await use_experience(
        services,
        experience(methods=[method("email", password=True)], forgot=["EmailVerificationCode"]),
    )
    reset = await html(visitor, "/forgot-password")
    assert "Password reset is not available" in reset
    assert EMAIL_UNAVAILABLE in reset


async def test_the_pages_carry_sentences_for_email_and_username(
    visitor: httpx.AsyncClient, outbox: None
) -> None:
    sentences = await page_sentences(visitor, "/sign-in")
    assert sentences["session.invalid_credentials"] == "The phone number or the password is wrong."
    assert sentences["session.invalid_credentials@username"] == (
        "The username or the password is wrong."
    )
    assert sentences["connector.@email"] == EMAIL_UNAVAILABLE
    assert (await visitor.get("/static/identifier.js")).status_code == 200
