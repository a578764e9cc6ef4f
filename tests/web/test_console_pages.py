"""Console pages over ASGI on both databases: every error path is a page in words, never JSON,
a stack or a secret."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from phoneauth.connectors import ConnectorType
from phoneauth.domain.message_log import DeliveryStatus, MessageLogEntry, MessageStatus
from phoneauth.wiring import Services

PASSWORD = "console password 1"
TWILIO = "twilio-short-message-service"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


@pytest.fixture
async def signed_in(browser: httpx.AsyncClient, services: Services) -> str:
    """The browser with the first admin created and signed in; answers its CSRF token."""
    setup = await browser.get("/console/setup")
    created = await browser.post(
        "/console/setup",
        data={
            "csrf": csrf_of(setup.text),
            "setup_token": await services.console.setup_tokens.issue(),
            "username": "admin",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert created.status_code == 303
    return csrf_of((await browser.get("/console/connectors")).text)


def assert_page_in_words(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert "Traceback" not in response.text
    assert '"code"' not in response.text


async def test_the_console_sends_everyone_to_setup_then_to_sign_in(
    browser: httpx.AsyncClient, services: Services
) -> None:
    first = await browser.get("/console/message-log")
    assert (first.status_code, first.headers["location"]) == (303, "/console/setup")
    signed_in_check = await browser.get("/console/sign-in")
    assert signed_in_check.headers["location"] == "/console/setup"
    page = await browser.get("/console/setup")
    missing = await browser.post("/console/setup", data={"username": "a", "password": "b"})
    assert_page_in_words(missing, 403, "reload the page")
    token = await services.console.setup_tokens.issue()
    form = {
        "csrf": csrf_of(page.text),
        "setup_token": token,
        "username": "admin",
        "password": PASSWORD,
        "password_again": "other",
    }
    mismatch = await browser.post("/console/setup", data=form)
    assert_page_in_words(mismatch, 422, "The two passwords are not the same.")
    form["password_again"] = PASSWORD
    for wrong in ("", token[:-1]):
        refused = await browser.post("/console/setup", data={**form, "setup_token": wrong})
        assert_page_in_words(refused, 403, "The setup token is missing or wrong.")
        assert 'id="setup_token"' in refused.text  # the form again, to type the token anew
        assert await services.console.needs_first_admin()
    created = await browser.post("/console/setup", data=form)
    assert (created.status_code, created.headers["location"]) == (303, "/console/connectors")


async def test_a_second_admin_cannot_be_created(
    browser: httpx.AsyncClient, signed_in: str, app: FastAPI
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as other:
        assert (await other.get("/console/setup")).headers["location"] == "/console/sign-in"
        page = await other.get("/console/sign-in")
        again = await other.post(
            "/console/setup",
            data={
                "csrf": csrf_of(page.text),
                "username": "intruder",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        assert_page_in_words(again, 409, "Sign in with it.")


async def test_errors_are_pages_in_words(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    assert_page_in_words(
        await browser.get("/console/connectors/new/no-such-provider"), 404, "no-such-provider"
    )
    assert_page_in_words(await browser.get("/console/connectors/nope"), 404, "Not found")
    assert_page_in_words(await browser.get("/console/nowhere"), 404, "no page at this address")
    assert_page_in_words(
        await browser.get("/console/message-log?page=abc"), 400, "Check your input"
    )
    assert_page_in_words(
        await browser.post("/console/tenant", data={"csrf": signed_in, "tenant": "nope"}),
        404,
        "There is no tenant with the id",
    )
    assert_page_in_words(
        await browser.post("/console/tenant", data={"tenant": "default"}), 403, "reload the page"
    )
    assert_page_in_words(
        await browser.post(
            "/console/sign-in-experience",
            data={"csrf": signed_in, "action": "save", "method-0-identifier": "fax"},
        ),
        400,
        "does not offer",
    )


async def test_secrets_never_reach_the_page_and_invalid_fields_are_named(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    form = {
        "csrf": signed_in,
        "action": "save",
        "cfg.accountSID": "AC1",
        "cfg.authToken": "very-secret-token",
        "cfg.fromMessagingServiceSID": "MG1",
        "cfg.templates": "[{not json",
    }
    bad_json = await browser.post(f"/console/connectors/new/{TWILIO}", data=form)
    assert_page_in_words(bad_json, 422, "This is not valid JSON")
    assert "very-secret-token" not in bad_json.text
    form["cfg.templates"] = '[{"usageType": "Nope", "content": "x"}]'
    invalid = await browser.post(f"/console/connectors/new/{TWILIO}", data=form)
    assert_page_in_words(invalid, 422, "data-field-error")
    assert "very-secret-token" not in invalid.text
    form["cfg.templates"] = '[{"usageType": "Generic", "content": "Code {{code}}"}]'
    saved = await browser.post(f"/console/connectors/new/{TWILIO}", data=form)
    assert saved.status_code == 303
    [connector] = await services.connectors.list("default")
    details = await browser.get(f"/console/connectors/{connector.id}")
    assert "very-secret-token" not in details.text
    assert "**********" not in details.text
    # An edit without the secret keeps it (the API's mask semantics).
    form["cfg.authToken"] = ""
    form["cfg.accountSID"] = "AC2"
    edited = await browser.post(f"/console/connectors/{connector.id}", data=form)
    assert edited.status_code == 303
    stored = await services.connectors.saved_config("default", reveal_secrets=True)
    assert stored is not None
    assert stored[1]["authToken"] == "very-secret-token"
    assert stored[1]["accountSID"] == "AC2"


async def test_a_production_tenant_cannot_pick_the_outbox(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    created = await browser.post(
        "/console/tenants",
        data={"csrf": signed_in, "id": "live", "name": "Live", "kind": "production"},
    )
    assert created.status_code == 303
    choose = await browser.get("/console/connectors/new")
    assert 'aria-disabled="true"' in choose.text
    refused = await browser.post(
        "/console/connectors/new/outbox-sms", data={"csrf": signed_in, "action": "save"}
    )
    assert_page_in_words(refused, 422, "for development tenants only")
    assert await services.connectors.list("live") == []


async def test_the_default_tenant_changes_kind_with_production_rules_in_words(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    page = await browser.get("/console/tenants")
    assert 'action="/console/tenants/default/kind"' in page.text
    assert '<label for="current-kind">Kind</label>' in page.text
    default = await services.tenants.get("default")
    await services.connectors.create(default, "outbox-sms", {})
    refused = await browser.post(
        "/console/tenants/default/kind", data={"csrf": signed_in, "kind": "production"}
    )
    assert_page_in_words(
        refused, 409, "Kind: a production tenant cannot send codes through the development outbox"
    )
    assert "data-tenant-kind" in refused.text  # the form again, to try after the change
    assert (await services.tenants.get("default")).kind.value == "development"
    twilio = {
        "accountSID": "AC1",
        "authToken": "token-1",
        "fromMessagingServiceSID": "MG1",
        "templates": [{"usageType": "Generic", "content": "Code {{code}}"}],
    }
    await services.connectors.create(default, TWILIO, twilio)
    saved = await browser.post(
        "/console/tenants/default/kind", data={"csrf": signed_in, "kind": "production"}
    )
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/console/tenants?done=production",
    )
    assert (await services.tenants.get("default")).kind.value == "production"
    shown = await browser.get(saved.headers["location"])
    assert "Saved. The tenant is a production tenant now." in shown.text
    assert '<option value="production" selected>' in shown.text
    back = await browser.post(
        "/console/tenants/default/kind", data={"csrf": signed_in, "kind": "development"}
    )
    assert back.status_code == 303
    assert (await services.tenants.get("default")).kind.value == "development"
    assert_page_in_words(
        await browser.post(
            "/console/tenants/default/kind", data={"csrf": signed_in, "kind": "staging"}
        ),
        422,
        "Kind: choose development or production.",
    )
    assert_page_in_words(
        await browser.post(
            "/console/tenants/nowhere/kind", data={"csrf": signed_in, "kind": "production"}
        ),
        404,
        "There is no tenant with the id",
    )
    assert_page_in_words(
        await browser.post("/console/tenants/default/kind", data={"kind": "production"}),
        403,
        "reload the page",
    )
    assert (await services.tenants.get("default")).kind.value == "development"


async def test_the_message_log_filters_by_status_and_pages(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    start = datetime(2026, 11, 25, 9, tzinfo=UTC)
    for index in range(25):
        failed = index % 5 == 0
        await services.message_log.record(
            MessageLogEntry(
                id=f"m{index:02d}",
                tenant_id="default",
                created_at=start + timedelta(minutes=index),
                connector_id="c1",
                factory_id=TWILIO,
                usage_type="SignIn",
                phone_masked="+4915*****5678",
                status=MessageStatus.FAILED if failed else MessageStatus.SENT,
                provider_message_id=None if failed else f"SM{index:02d}",
                error_code="connector.rate_limit_exceeded" if failed else None,
                error_message="Too many requests" if failed else None,
                latency_ms=40 + index,
            )
        )
    first = await browser.get("/console/message-log")
    assert "25 entries" in first.text
    assert "SM24" in first.text
    assert "SM01" not in first.text
    assert "Page 1 of 2" in first.text
    second = await browser.get("/console/message-log?page=2")
    assert "SM01" in second.text
    assert "SM24" not in second.text
    failed = await browser.get("/console/message-log?status=failed")
    assert "5 entries" in failed.text
    assert "connector.rate_limit_exceeded" in failed.text
    assert not re.search(
        r"SM\d", re.sub(r"<[^>]+>", "", failed.text).split("Provider message id")[1]
    )
    assert "The SMS provider is throttling the messages." in failed.text  # the code in words
    assert "Twilio" in failed.text


async def test_the_message_log_shows_delivery_in_words_and_filters_by_it(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    start = datetime(2026, 11, 25, 9, tzinfo=UTC)
    reports = [
        (DeliveryStatus.DELIVERED, "delivered", 4300),
        (DeliveryStatus.UNDELIVERED, "30003", 125_000),
        (DeliveryStatus.ACCEPTED, None, None),
    ]
    for index, (delivery, code, latency) in enumerate(reports):
        await services.message_log.record(
            MessageLogEntry(
                id=f"d{index}",
                tenant_id="default",
                created_at=start + timedelta(minutes=index),
                connector_id="c1",
                factory_id=TWILIO,
                usage_type="SignIn",
                phone_masked="+4915*****5678",
                status=MessageStatus.SENT,
                provider_message_id=f"SMD{index}",
                delivery_status=delivery,
                delivery_code=code,
                delivery_latency_ms=latency,
            )
        )
    page = await browser.get("/console/message-log")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Delivered after 4.3 s delivered" in text
    assert "Not delivered after 2 min 30003" in text
    assert "Waiting for the provider" in text
    undelivered = await browser.get("/console/message-log?delivery=undelivered")
    assert "1 entry" in undelivered.text
    assert "SMD1" in undelivered.text
    assert "SMD0" not in undelivered.text


async def test_every_installed_provider_has_a_set_up_page(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    kinds: set[str] = set()
    # These pages set up SMS connectors; Email connectors are managed over the API for now.
    sms = [f for f in services.connectors.factories() if f.type is ConnectorType.SMS]
    for factory in sms:
        page = await browser.get(f"/console/connectors/new/{factory.id}")
        assert page.status_code == 200, factory.id
        assert "Parameter configuration" in page.text
        assert "<script>" not in page.text.split("</header>", 1)[1]  # README HTML is escaped
        kinds |= set(re.findall(r'data-kind="(\w+)"', page.text))
    assert {"Text", "Json", "Switch", "Select"} <= kinds


async def test_a_form_posted_from_another_site_is_a_403_page_and_changes_nothing(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    form = {"csrf": signed_in, "id": "evil", "name": "Evil", "kind": "development"}
    for foreign in (
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
        {"Referer": "https://attacker.example/phoneauth.test/console"},
    ):
        refused = await browser.post("/console/tenants", data=form, headers=foreign)
        assert_page_in_words(refused, 403, "sent from another site")
    assert "evil" not in {tenant.id for tenant in await services.tenants.store.list()}
    own = {"Origin": "http://phoneauth.test", "Referer": "http://phoneauth.test/console/tenants"}
    created = await browser.post("/console/tenants", data=form, headers=own)
    assert created.status_code == 303
    assert "evil" in {tenant.id for tenant in await services.tenants.store.list()}


CONSOLE_PAGES = (
    "/console/connectors",
    "/console/sign-in-experience",
    "/console/message-log",
    "/console/tenants",
)


def sms_warning(html: str) -> str | None:
    found = re.search(r"<div[^>]*data-sms-warning>(.*?)</div>", html, re.DOTALL)
    return None if found is None else " ".join(found.group(1).split())


async def test_every_page_warns_while_end_users_cannot_get_a_code(
    browser: httpx.AsyncClient, signed_in: str, api: httpx.AsyncClient
) -> None:
    for path in CONSOLE_PAGES:  # a fresh install: no SMS connector yet
        warning = sms_warning((await browser.get(path)).text)
        assert warning is not None, path
        assert warning.startswith("<strong>End users cannot sign in yet.</strong>")
        assert '<a href="/console/connectors" data-fix-connector>' in warning
    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text
    for path in CONSOLE_PAGES:
        assert sms_warning((await browser.get(path)).text) is None, path

    # A saved phone-code experience, then "Delete anyway": the warning names what broke.
    assert (await api.patch("/api/sign-in-exp", json={"signInMode": "SignIn"})).status_code == 200
    deleted = await api.delete(f"/api/connectors/{created.json()['id']}?force=true")
    assert deleted.status_code == 204
    for path in CONSOLE_PAGES:
        warning = sms_warning((await browser.get(path)).text)
        assert warning is not None, path
        assert "End users cannot sign in by SMS." in warning
        assert "(sign-up with a phone number, sign-in with a code by SMS)" in warning
        assert '<a href="/console/sign-in-experience" data-fix-experience>' in warning
        assert "signUp.identifiers" not in warning  # words, not config paths
    again = await api.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert again.status_code == 200, again.text
    assert sms_warning((await browser.get("/console/connectors")).text) is None


async def test_a_tenant_without_a_connector_is_warned_about_in_its_own_console(
    browser: httpx.AsyncClient, signed_in: str, api: httpx.AsyncClient
) -> None:
    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text
    assert sms_warning((await browser.get("/console/connectors")).text) is None
    made = await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})
    assert made.status_code == 201, made.text
    switched = await browser.post(
        "/console/tenant", data={"csrf": signed_in, "tenant": "acme", "back": "/console/tenants"}
    )
    assert switched.status_code == 303
    warning = sms_warning((await browser.get("/console/tenants")).text)
    assert warning is not None
    assert "End users cannot sign in yet." in warning


async def test_sign_in_identifiers_are_named_in_words(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    # A fresh tenant has no sign-in method until it has an SMS connector: add one on the form.
    page = await browser.post(
        "/console/sign-in-experience", data={"csrf": signed_in, "action": "add"}
    )
    assert page.status_code == 200
    # The sign-up choice; a fresh tenant has no SMS connector, so the choice names it.
    assert (
        '<option value="phone" selected>Phone number (needs an SMS connector)</option>' in page.text
    )
    assert '<option value="username">Username</option>' in page.text
    assert ">phone</option>" not in page.text
