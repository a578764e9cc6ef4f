"""Organizations, invitations by phone and their acceptance with the code from the SMS."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.web.account_support import (
    NEW_PHONE,
    PHONE,
    Clock,
    anonymous,
    latest_code,
    latest_message,
    use_outbox,
    wrong,
)

from phoneauth.domain.tenants import TenantKind
from phoneauth.wiring import Services

INVITATIONS = "/api/organization-invitations"


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def new_organization(api: httpx.AsyncClient, name: str = "Acme", prefix: str = "") -> str:
    created = await api.post(f"{prefix}/api/organizations", json={"name": name})
    assert created.status_code == 201, created.text
    organization_id: str = created.json()["id"]
    return organization_id


async def invite(
    api: httpx.AsyncClient, organization_id: str, phone: str = PHONE, **extra: Any
) -> dict[str, Any]:
    body = {"organizationId": organization_id, "invitee": phone, **extra}
    created = await api.post(INVITATIONS, json=body)
    assert created.status_code == 201, created.text
    invitation: dict[str, Any] = created.json()
    return invitation


@pytest.fixture
async def organization(api: httpx.AsyncClient) -> str:
    await use_outbox(api)
    return await new_organization(api)


@pytest.fixture
async def public(app: FastAPI) -> Any:
    async with anonymous(app) as client:
        yield client


# --- organizations ---------------------------------------------------------------------------


async def test_create_read_and_page_organizations(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/organizations", json={"name": "Acme", "description": "Rockets"})
    assert created.status_code == 201
    acme = created.json()
    assert set(acme) == {"id", "tenantId", "name", "description", "createdAt"}
    assert (acme["tenantId"], acme["name"], acme["description"]) == ("default", "Acme", "Rockets")
    assert isinstance(acme["createdAt"], int)
    assert (await api.get(f"/api/organizations/{acme['id']}")).json() == acme
    for name in ("Beta", "Gamma"):
        await new_organization(api, name)
    listed = await api.get("/api/organizations", params={"page": 1, "page_size": 2})
    assert listed.headers["Total-Number"] == "3"
    assert len(listed.json()) == 2
    rest = await api.get("/api/organizations", params={"page": 2, "page_size": 2})
    names = {o["name"] for o in listed.json()} | {o["name"] for o in rest.json()}
    assert names == {"Acme", "Beta", "Gamma"}


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 129}, {"name": "A", "description": "x" * 513}, {"x": 1}],
)
async def test_malformed_organizations_are_400_invalid_input(
    api: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_error(await api.post("/api/organizations", json=body), 400, "guard.invalid_input")


async def test_unknown_organizations_are_404(api: httpx.AsyncClient) -> None:
    for path in ("/api/organizations/nope", "/api/organizations/nope/users"):
        response = await api.get(path)
        assert_error(response, 404, "entity.not_exists_with_id")
        assert response.json()["details"] == {"name": "organizations", "id": "nope"}
    bad_page = await api.get("/api/organizations", params={"page_size": 101})
    assert_error(bad_page, 400, "guard.invalid_input")


async def test_the_management_routes_need_an_admin_key(
    app: FastAPI, public: httpx.AsyncClient
) -> None:
    for method, path in [
        ("POST", "/api/organizations"),
        ("GET", "/api/organizations"),
        ("GET", "/api/organizations/x"),
        ("GET", "/api/organizations/x/users"),
        ("POST", INVITATIONS),
        ("GET", INVITATIONS),
        ("GET", f"{INVITATIONS}/x"),
        ("DELETE", f"{INVITATIONS}/x"),
        ("POST", f"{INVITATIONS}/x/message"),
    ]:
        response = await public.request(method, path, json={})
        assert_error(response, 401, "auth.unauthorized")


# --- inviting --------------------------------------------------------------------------------


async def test_an_invitation_texts_a_code_with_the_invitation_template(
    api: httpx.AsyncClient, organization: str, services: Services
) -> None:
    clock = Clock()
    services.organizations.clock = clock
    invitation = await invite(api, organization, "4915112345678")
    assert set(invitation) == {
        "id",
        "tenantId",
        "organizationId",
        "invitee",
        "status",
        "acceptedUserId",
        "createdAt",
        "updatedAt",
        "expiresAt",
    }
    assert invitation["invitee"] == PHONE
    assert invitation["status"] == "Pending"
    assert invitation["acceptedUserId"] is None
    assert invitation["organizationId"] == organization
    now_ms = int(clock.now.timestamp() * 1000)
    assert invitation["createdAt"] == now_ms
    assert invitation["expiresAt"] == now_ms + 7 * 24 * 3600 * 1000
    message = await latest_message(api, PHONE)
    assert message["usageType"] == "OrganizationInvitation"
    assert message["code"]
    assert message["code"] in message["text"]
    assert (await api.get(f"{INVITATIONS}/{invitation['id']}")).json() == invitation


async def test_an_explicit_expiry_is_kept_in_milliseconds(
    api: httpx.AsyncClient, organization: str, services: Services
) -> None:
    clock = Clock()
    services.organizations.clock = clock
    expires_at = int(clock.now.timestamp() * 1000) + 3_600_123
    invitation = await invite(api, organization, expiresAt=expires_at)
    assert invitation["expiresAt"] == expires_at


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"organizationId": "nope", "invitee": PHONE}, 404, "entity.not_exists_with_id"),
        ({"invitee": "+49123"}, 400, "phone_number.invalid"),
        ({"invitee": PHONE, "expiresAt": 1_000}, 400, "organization_invitation.invalid_expiration"),
        ({"invitee": PHONE, "expiresAt": 10**16}, 400, "guard.invalid_input"),
        ({"invitee": PHONE, "expiresAt": -1}, 400, "guard.invalid_input"),
        ({"invitee": PHONE, "email": "a@example.com"}, 400, "guard.invalid_input"),
        ({}, 400, "guard.invalid_input"),
    ],
)
async def test_bad_invitations_are_refused(
    api: httpx.AsyncClient, organization: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = await api.post(INVITATIONS, json={"organizationId": organization, **body})
    assert_error(response, status, code)
    assert (await api.get(INVITATIONS)).json() == []


async def test_one_pending_invitation_per_number_and_organization(
    api: httpx.AsyncClient, organization: str
) -> None:
    first = await invite(api, organization)
    again = await api.post(INVITATIONS, json={"organizationId": organization, "invitee": PHONE})
    assert_error(again, 422, "entity.unique_integrity_violation")
    assert again.json()["details"] == {"invitation_id": first["id"]}
    elsewhere = await new_organization(api, "Other")
    await invite(api, elsewhere)
    assert (await api.delete(f"{INVITATIONS}/{first['id']}")).status_code == 204
    await invite(api, organization)


async def test_members_cannot_be_invited_again(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient
) -> None:
    invitation = await invite(api, organization)
    code = await latest_code(api, PHONE)
    assert (
        await public.post(f"{INVITATIONS}/{invitation['id']}/accept", json={"code": code})
    ).is_success
    again = await api.post(INVITATIONS, json={"organizationId": organization, "invitee": PHONE})
    assert_error(again, 422, "organization_invitation.invitee_already_member")


async def test_without_an_sms_connector_no_invitation_is_kept(api: httpx.AsyncClient) -> None:
    organization = await new_organization(api)
    response = await api.post(INVITATIONS, json={"organizationId": organization, "invitee": PHONE})
    assert_error(response, 501, "connector.not_found")
    # Digits that are no valid number: the connector lookup still answers first (Logto's order).
    digits = {"organizationId": organization, "invitee": "1233212321"}
    assert_error(await api.post(INVITATIONS, json=digits), 501, "connector.not_found")
    assert (await api.get(INVITATIONS)).json() == []


async def test_invitations_are_listed_by_organization_and_invitee(
    api: httpx.AsyncClient, organization: str
) -> None:
    other = await new_organization(api, "Other")
    a = await invite(api, organization, PHONE)
    b = await invite(api, organization, NEW_PHONE)
    c = await invite(api, other, PHONE)
    ids = [i["id"] for i in (await api.get(INVITATIONS)).json()]
    assert sorted(ids) == sorted([a["id"], b["id"], c["id"]])
    mine = (await api.get(INVITATIONS, params={"organizationId": organization})).json()
    assert sorted(i["id"] for i in mine) == sorted([a["id"], b["id"]])
    by_phone = (await api.get(INVITATIONS, params={"invitee": "4915112345678"})).json()
    assert sorted(i["id"] for i in by_phone) == sorted([a["id"], c["id"]])
    assert (await api.get(INVITATIONS, params={"organizationId": "nope"})).json() == []
    assert_error(await api.get(INVITATIONS, params={"invitee": "x"}), 400, "phone_number.invalid")
    assert_error(await api.get(f"{INVITATIONS}/nope"), 404, "entity.not_exists_with_id")


# --- accepting -------------------------------------------------------------------------------


async def test_accepting_makes_a_new_user_a_member_and_signs_them_in(
    app: FastAPI,
    api: httpx.AsyncClient,
    organization: str,
    public: httpx.AsyncClient,
    services: Services,
) -> None:
    invitation = await invite(api, organization)
    code = await latest_code(api, PHONE)
    response = await public.post(f"{INVITATIONS}/{invitation['id']}/accept", json={"code": code})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"organizationId", "userId", "accessToken"}
    assert body["organizationId"] == organization
    user = await services.users.find_by_phone("default", PHONE)
    assert user is not None
    assert body["userId"] == user.id
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("phoneauth_session=")
    assert "HttpOnly" in cookie
    assert "Path=/;" in cookie
    assert "samesite=lax" in cookie.lower()

    # Both the cookie (kept by the client) and the token open the Account API.
    assert (await public.get("/api/my-account")).json()["id"] == user.id
    async with anonymous(app) as fresh:
        by_token = await fresh.get(
            "/api/my-account", headers={"Authorization": f"Bearer {body['accessToken']}"}
        )
    assert by_token.json()["primaryPhone"] == PHONE

    members = await api.get(f"/api/organizations/{organization}/users")
    assert members.headers["Total-Number"] == "1"
    assert [m["id"] for m in members.json()] == [user.id]
    accepted = (await api.get(f"{INVITATIONS}/{invitation['id']}")).json()
    assert accepted["status"] == "Accepted"
    assert accepted["acceptedUserId"] == user.id
    assert accepted["updatedAt"] >= invitation["updatedAt"]


async def test_an_existing_user_with_the_number_is_the_one_who_joins(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient, services: Services
) -> None:
    existing = await services.users.create("default", phone=PHONE)
    invitation = await invite(api, organization)
    code = await latest_code(api, PHONE)
    response = await public.post(f"{INVITATIONS}/{invitation['id']}/accept", json={"code": code})
    assert response.json()["userId"] == existing.id
    assert await services.users.count("default") == 1


async def test_a_wrong_code_leaves_the_invitation_pending(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient
) -> None:
    invitation = await invite(api, organization)
    code = await latest_code(api, PHONE)
    path = f"{INVITATIONS}/{invitation['id']}/accept"
    response = await public.post(path, json={"code": wrong(code)})
    assert_error(response, 400, "verification_code.code_mismatch")
    assert "set-cookie" not in response.headers
    assert (await api.get(f"{INVITATIONS}/{invitation['id']}")).json()["status"] == "Pending"
    assert (await public.post(path, json={"code": code})).status_code == 200


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "1" * 65}, {"code": 123456}])
async def test_malformed_acceptances_are_400_invalid_input(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    invitation = await invite(api, organization)
    response = await public.post(f"{INVITATIONS}/{invitation['id']}/accept", json=body)
    assert_error(response, 400, "guard.invalid_input")


async def test_unknown_accepted_revoked_and_expired_invitations_cannot_be_accepted(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient, services: Services
) -> None:
    clock = Clock()
    services.organizations.clock = clock
    unknown = await public.post(f"{INVITATIONS}/nope/accept", json={"code": "123456"})
    assert_error(unknown, 404, "entity.not_exists_with_id")

    accepted = await invite(api, organization)
    code = await latest_code(api, PHONE)
    path = f"{INVITATIONS}/{accepted['id']}/accept"
    assert (await public.post(path, json={"code": code})).status_code == 200
    again = await public.post(path, json={"code": code})
    assert_error(again, 422, "organization_invitation.already_accepted")
    assert again.json()["details"] == {"invitation_id": accepted["id"], "status": "Accepted"}

    other = await new_organization(api, "Other")
    revoked = await invite(api, other, NEW_PHONE)
    code = await latest_code(api, NEW_PHONE)
    assert (await api.delete(f"{INVITATIONS}/{revoked['id']}")).status_code == 204
    response = await public.post(f"{INVITATIONS}/{revoked['id']}/accept", json={"code": code})
    assert_error(response, 422, "organization_invitation.revoked")

    third = await new_organization(api, "Third")
    expires_at = int(clock.now.timestamp() * 1000) + 60_000
    expiring = await invite(api, third, NEW_PHONE, expiresAt=expires_at)
    code = await latest_code(api, NEW_PHONE)
    clock.advance(61)
    response = await public.post(f"{INVITATIONS}/{expiring['id']}/accept", json={"code": code})
    assert_error(response, 422, "organization_invitation.expired")
    assert (await api.get(f"{INVITATIONS}/{expiring['id']}")).json()["status"] == "Expired"
    # An expired invitation does not block a new one.
    await invite(api, third, NEW_PHONE)


async def test_concurrent_acceptances_have_one_winner(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient
) -> None:
    invitation = await invite(api, organization)
    code = await latest_code(api, PHONE)
    path = f"{INVITATIONS}/{invitation['id']}/accept"
    results = await asyncio.gather(*(public.post(path, json={"code": code}) for _ in range(8)))
    assert sorted(r.status_code for r in results).count(200) == 1
    members = (await api.get(f"/api/organizations/{organization}/users")).json()
    assert len(members) == 1


# --- revoking and resending ----------------------------------------------------------------


async def test_revoking_is_idempotent_and_never_undoes_an_acceptance(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient
) -> None:
    invitation = await invite(api, organization)
    path = f"{INVITATIONS}/{invitation['id']}"
    assert (await api.delete(path)).status_code == 204
    assert (await api.get(path)).json()["status"] == "Revoked"
    assert (await api.delete(path)).status_code == 204
    assert_error(await api.delete(f"{INVITATIONS}/nope"), 404, "entity.not_exists_with_id")

    accepted = await invite(api, organization)
    code = await latest_code(api, PHONE)
    assert (
        await public.post(f"{INVITATIONS}/{accepted['id']}/accept", json={"code": code})
    ).is_success
    response = await api.delete(f"{INVITATIONS}/{accepted['id']}")
    assert_error(response, 422, "organization_invitation.already_accepted")


@pytest.mark.parametrize("keeps_code", [True, False])
async def test_resending_the_invitation_sends_the_waiting_code_or_a_new_one(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient, keeps_code: bool
) -> None:
    policy = {"resendCooldownSeconds": 0, "resendKeepsCode": keeps_code}
    changed = await api.patch("/api/tenant/settings", json={"verificationCodePolicy": policy})
    assert changed.status_code == 200, changed.text
    invitation = await invite(api, organization)
    first = await latest_code(api, PHONE)
    resent = await api.post(f"{INVITATIONS}/{invitation['id']}/message")
    assert resent.status_code == 204
    second = await latest_code(api, PHONE)
    assert (await latest_message(api, PHONE))["usageType"] == "OrganizationInvitation"
    path = f"{INVITATIONS}/{invitation['id']}/accept"
    if keeps_code:
        assert first == second  # the invitee may type the code of either message
    else:
        assert first != second
        assert_error(
            await public.post(path, json={"code": first}), 400, "verification_code.code_mismatch"
        )
    assert (await public.post(path, json={"code": second})).status_code == 200
    response = await api.post(f"{INVITATIONS}/{invitation['id']}/message")
    assert_error(response, 422, "organization_invitation.already_accepted")
    assert_error(await api.post(f"{INVITATIONS}/nope/message"), 404, "entity.not_exists_with_id")


# --- tenants, logs, documentation -----------------------------------------------------------


async def test_invitations_stay_in_their_tenant(
    api: httpx.AsyncClient, organization: str, public: httpx.AsyncClient, services: Services
) -> None:
    await services.tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    await use_outbox(api, "/t/other")
    invitation = await invite(api, organization)
    code = await latest_code(api, PHONE)
    assert_error(
        await api.get(f"/t/other{INVITATIONS}/{invitation['id']}"), 404, "entity.not_exists_with_id"
    )
    assert_error(
        await api.get(f"/t/other/api/organizations/{organization}"),
        404,
        "entity.not_exists_with_id",
    )
    assert (await api.get("/t/other/api/organizations")).json() == []
    response = await public.post(
        f"/t/other{INVITATIONS}/{invitation['id']}/accept", json={"code": code}
    )
    assert_error(response, 404, "entity.not_exists_with_id")
    unknown_tenant = await public.post(f"/t/nope{INVITATIONS}/x/accept", json={"code": code})
    assert_error(unknown_tenant, 404, "tenant.not_found")

    theirs = await new_organization(api, "Theirs", "/t/other")
    created = await api.post(
        f"/t/other{INVITATIONS}", json={"organizationId": theirs, "invitee": PHONE}
    )
    assert created.status_code == 201
    their_code = await latest_code(api, PHONE, "/t/other")
    accepted = await public.post(
        f"/t/other{INVITATIONS}/{created.json()['id']}/accept", json={"code": their_code}
    )
    assert accepted.status_code == 200
    assert "Path=/;" in accepted.headers["set-cookie"]  # one session cookie, as the Experience API
    their_user = await services.users.find_by_phone("other", PHONE)
    assert their_user is not None
    assert accepted.json()["userId"] == their_user.id
    assert await services.users.find_by_phone("default", PHONE) is None


async def test_no_code_reaches_the_logs(
    api: httpx.AsyncClient,
    organization: str,
    public: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    invitation = await invite(api, organization)
    code = await latest_code(api, PHONE)
    accepted = await public.post(f"{INVITATIONS}/{invitation['id']}/accept", json={"code": code})
    token = accepted.json()["accessToken"]
    everything = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in everything
    assert token not in everything
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("phoneauth"))
    assert PHONE not in ours


async def test_the_invitation_routes_list_their_error_codes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    def codes(path: str, method: str) -> str:
        responses = paths[path][method]["responses"]
        return " ".join(r.get("description", "") for r in responses.values())

    create = codes(INVITATIONS, "post")
    for code in (
        "entity.not_exists_with_id",
        "phone_number.invalid",
        "organization_invitation.invalid_expiration",
        "organization_invitation.invitee_already_member",
        "entity.unique_integrity_violation",
        "connector.not_found",
    ):
        assert code in create
    accept = codes(f"{INVITATIONS}/{{invitation_id}}/accept", "post")
    for code in (
        "entity.not_exists_with_id",
        "organization_invitation.already_accepted",
        "organization_invitation.revoked",
        "organization_invitation.expired",
        "verification_code.code_mismatch",
    ):
        assert code in accept
    assert "auth.unauthorized" not in accept
    assert "organization_invitation.already_accepted" in codes(
        f"{INVITATIONS}/{{invitation_id}}", "delete"
    )
