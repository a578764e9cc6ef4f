"""The invitation SMS carries the acceptance page's link, and the invitee can ask for a new code.

A code lives minutes and an invitation days, so the invitee who opens the link late asks for a
new code on the page: `POST /api/organization-invitations/{id}/resend`, no admin key, within the
usual send budgets, and the same answer whether or not an SMS left.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.resend_support import NO_COOLDOWN
from tests.web.account_support import (
    NEW_PHONE,
    PHONE,
    Clock,
    anonymous,
    latest_message,
    use_outbox,
    wrong,
)

from phoneauth.settings import Settings
from phoneauth.wiring import Services

INVITATIONS = "/api/organization-invitations"
PUBLIC_URL = "https://id.example.com"


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings) -> Settings:
    return module_settings.model_copy(update={"public_url": PUBLIC_URL})


@pytest.fixture
async def public(app: FastAPI) -> Any:
    async with anonymous(app) as client:
        yield client


async def invite(api: httpx.AsyncClient, phone: str = PHONE, prefix: str = "", **extra: Any) -> str:
    organization = await api.post(f"{prefix}/api/organizations", json={"name": "Acme"})
    assert organization.status_code == 201, organization.text
    body = {"organizationId": organization.json()["id"], "invitee": phone, **extra}
    created = await api.post(f"{prefix}{INVITATIONS}", json=body)
    assert created.status_code == 201, created.text
    invitation_id: str = created.json()["id"]
    return invitation_id


async def texts(api: httpx.AsyncClient, phone: str = PHONE, prefix: str = "") -> list[Any]:
    found: list[Any] = (await api.get(f"{prefix}/api/outbox", params={"phone": phone})).json()
    return found


async def resend(public: httpx.AsyncClient, invitation_id: str, prefix: str = "") -> httpx.Response:
    return await public.post(f"{prefix}{INVITATIONS}/{invitation_id}/resend")


@pytest.fixture
async def outbox(api: httpx.AsyncClient) -> None:
    """The outbox as SMS connector, and no resend cooldown: these tests resend at once."""
    await use_outbox(api)
    assert (await api.patch("/api/tenant/settings", json=NO_COOLDOWN)).status_code == 200


# --- the link --------------------------------------------------------------------------------


@pytest.mark.usefixtures("outbox")
async def test_the_invitation_sms_links_to_the_acceptance_page(
    api: httpx.AsyncClient, public: httpx.AsyncClient
) -> None:
    invitation_id = await invite(api)
    message = await latest_message(api, PHONE)
    link = f"{PUBLIC_URL}/invitations/{invitation_id}"
    assert message["text"] == (
        f"Your organization invitation code is {message['code']}. Accept the invitation at {link}"
    )
    page = await public.get(link.removeprefix(PUBLIC_URL))
    assert page.status_code == 200
    assert "Join Acme" in page.text
    assert "Send me a new code" in page.text

    # The admin's resend carries it too.
    assert (await api.post(f"{INVITATIONS}/{invitation_id}/message")).status_code == 204
    assert (await latest_message(api, PHONE))["text"].endswith(link)


async def test_another_tenants_link_is_under_its_prefix(
    api: httpx.AsyncClient, public: httpx.AsyncClient, services: Services
) -> None:
    assert (await api.post("/api/tenants", json={"id": "acme", "name": "Acme Inc"})).is_success
    await use_outbox(api, "/t/acme")
    invitation_id = await invite(api, prefix="/t/acme")
    [message] = await texts(api, prefix="/t/acme")
    link = f"{PUBLIC_URL}/t/acme/invitations/{invitation_id}"
    assert message["text"].endswith(f" {link}")
    assert (await public.get(link.removeprefix(PUBLIC_URL))).status_code == 200


# --- the invitee's resend --------------------------------------------------------------------


@pytest.mark.usefixtures("outbox")
async def test_the_invitee_gets_the_code_again_and_the_latest_one_works(
    api: httpx.AsyncClient, public: httpx.AsyncClient
) -> None:
    invitation_id = await invite(api)
    [first] = await texts(api)
    answered = await resend(public, invitation_id)
    assert (answered.status_code, answered.content) == (204, b"")
    second, _ = await texts(api)  # newest first
    assert second["usageType"] == "OrganizationInvitation"
    assert second["text"].endswith(f"{PUBLIC_URL}/invitations/{invitation_id}")
    accept = f"{INVITATIONS}/{invitation_id}/accept"
    if first["code"] != second["code"]:
        stale = await public.post(accept, json={"code": first["code"]})
        assert stale.json()["code"] == "verification_code.code_mismatch"
    assert (await public.post(accept, json={"code": wrong(second["code"])})).status_code == 400
    assert (await public.post(accept, json={"code": second["code"]})).status_code == 200


@pytest.mark.usefixtures("outbox")
async def test_unknown_or_closed_invitations_answer_the_same_and_send_nothing(
    api: httpx.AsyncClient, public: httpx.AsyncClient, services: Services
) -> None:
    clock = Clock()
    services.organizations.clock = clock
    accepted = await invite(api)
    [message] = await texts(api)
    assert (
        await public.post(f"{INVITATIONS}/{accepted}/accept", json={"code": message["code"]})
    ).is_success
    revoked = await invite(api, NEW_PHONE)
    assert (await api.delete(f"{INVITATIONS}/{revoked}")).status_code == 204
    expires_at = int(clock.now.timestamp() * 1000) + 60_000
    expired = await invite(api, NEW_PHONE, expiresAt=expires_at)
    clock.advance(61)
    pending = await invite(api, "+4915199999999")
    before = (await api.get("/api/message-logs")).headers["Total-Number"]

    sent = await resend(public, pending)
    assert (sent.status_code, sent.content) == (204, b"")
    after_sending = (await api.get("/api/message-logs")).headers["Total-Number"]
    assert int(after_sending) == int(before) + 1
    for invitation_id in ("no-such-invitation", accepted, revoked, expired):
        answer = await resend(public, invitation_id)
        assert (answer.status_code, answer.content, answer.headers.get("content-type")) == (
            sent.status_code,
            sent.content,
            sent.headers.get("content-type"),
        )
    assert (await api.get("/api/message-logs")).headers["Total-Number"] == after_sending
    assert len(await texts(api)) == 1
    assert len(await texts(api, NEW_PHONE)) == 2


@pytest.mark.usefixtures("outbox")
async def test_resending_spends_the_numbers_send_budget(
    api: httpx.AsyncClient, public: httpx.AsyncClient
) -> None:
    limits = {"rateLimits": {"recipientLimit": 2}}
    assert (await api.patch("/api/tenant/settings", json=limits)).status_code == 200
    invitation_id = await invite(api)  # the first of the two sends allowed
    assert (await resend(public, invitation_id)).status_code == 204
    refused = await resend(public, invitation_id)
    assert (refused.status_code, refused.json()["code"]) == (429, "request.message_rate_limited")
    assert int(refused.headers["retry-after"]) > 0
    assert len(await texts(api)) == 2


@pytest.mark.usefixtures("outbox")
async def test_resending_spends_the_callers_ip_budget(
    api: httpx.AsyncClient, public: httpx.AsyncClient
) -> None:
    first, second = await invite(api), await invite(api, NEW_PHONE)
    limits = {"rateLimits": {"ipLimit": 1}}  # counted afresh from here on
    assert (await api.patch("/api/tenant/settings", json=limits)).status_code == 200
    assert (await resend(public, first)).status_code == 204
    refused = await resend(public, second)  # another number, the same client
    assert (refused.status_code, refused.json()["code"]) == (429, "request.ip_rate_limited")
    assert len(await texts(api, NEW_PHONE)) == 1


async def test_without_a_connector_the_invitee_is_told(
    api: httpx.AsyncClient, public: httpx.AsyncClient, services: Services
) -> None:
    await use_outbox(api)
    assert (await api.patch("/api/tenant/settings", json=NO_COOLDOWN)).status_code == 200
    invitation_id = await invite(api)
    [connector] = (await api.get("/api/connectors")).json()
    assert (await api.delete(f"/api/connectors/{connector['id']}?force=true")).status_code == 204
    refused = await resend(public, invitation_id)
    assert (refused.status_code, refused.json()["code"]) == (501, "connector.not_found")


@pytest.mark.usefixtures("outbox")
async def test_the_resend_route_keeps_codes_out_of_logs_and_stays_in_its_tenant(
    api: httpx.AsyncClient, public: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    invitation_id = await invite(api)
    assert (await resend(public, invitation_id)).status_code == 204
    codes = [text["code"] for text in await texts(api)]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [code for code in codes if code in logged]
    unknown_tenant = await resend(public, invitation_id, "/t/nope")
    assert (unknown_tenant.status_code, unknown_tenant.json()["code"]) == (404, "tenant.not_found")
    assert (await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})).is_success
    assert (await resend(public, invitation_id, "/t/acme")).status_code == 204
    assert len(await texts(api)) == 2  # the default tenant's invitation got nothing from acme


async def test_the_resend_route_is_documented_with_its_codes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    operation = paths[f"{INVITATIONS}/{{invitation_id}}/resend"]["post"]
    described = " ".join(r.get("description", "") for r in operation["responses"].values())
    for code in ("request.message_rate_limited", "request.ip_rate_limited", "connector.not_found"):
        assert code in described
    assert "auth.unauthorized" not in described
    assert "security" not in operation
