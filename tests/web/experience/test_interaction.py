"""The interaction itself: the signed cookie, the server-side state, its lifetime, tenants."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.web.experience.support import (
    PASSWORD,
    PHONE,
    EndUser,
    experience,
    use_experience,
    verified_claims,
)

from phoneauth.domain.interaction_cleanup import delete_expired_interactions
from phoneauth.domain.interactions import InteractionStore
from phoneauth.storage.models import InteractionRow, SessionRow
from phoneauth.wiring import Services


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


ROUTES = [
    ("PUT", "/interaction-event", {"interactionEvent": "Register"}),
    ("GET", "/interaction", None),
    (
        "POST",
        "/verification/verification-code",
        {"identifier": {"type": "phone", "value": PHONE}, "interactionEvent": "SignIn"},
    ),
    (
        "POST",
        "/verification/verification-code/verify",
        {"identifier": {"type": "phone", "value": PHONE}, "verificationId": "x", "code": "1"},
    ),
    (
        "POST",
        "/verification/password",
        {"identifier": {"type": "phone", "value": PHONE}, "password": "p"},
    ),
    ("POST", "/verification/mfa-verification-code", {"identifierType": "phone"}),
    (
        "POST",
        "/verification/mfa-verification-code/verify",
        {"verificationId": "x", "code": "1", "identifierType": "phone"},
    ),
    ("POST", "/identification", {}),
    ("POST", "/profile", {"type": "phone", "verificationId": "x"}),
    ("PUT", "/profile/password", {"password": "a new password"}),
    ("POST", "/profile/mfa", {"type": "PhoneVerificationCode", "verificationId": "x"}),
    ("POST", "/submit", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[r[1] for r in ROUTES])
async def test_every_step_needs_an_interaction(
    user: EndUser, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = await user.client.request(method, user.url(path), json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "session.not_found"


async def test_no_admin_key_is_needed_and_none_is_looked_at(user: EndUser) -> None:
    assert "authorization" not in user.client.headers
    started = await user.client.put(
        user.url(""),
        json={"interactionEvent": "SignIn"},
        headers={"Authorization": "Bearer not-a-key"},
    )
    assert started.status_code == 204


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: "garbage",
        lambda token: token.split(".")[0] + ".",
    ],
    ids=["signature", "payload", "garbage", "unsigned"],
)
async def test_a_tampered_cookie_is_no_interaction(user: EndUser, tamper: object) -> None:
    assert (await user.start("SignIn")).status_code == 204
    token = user.client.cookies["phoneauth_interaction"]
    assert callable(tamper)
    user.client.cookies.set("phoneauth_interaction", tamper(token), domain="phoneauth.test")
    refused = await user.client.get(user.url("/interaction"))
    assert refused.status_code == 400
    assert refused.json()["code"] == "session.not_found"


async def test_a_cookie_signed_with_another_key_is_refused(
    user: EndUser, services: Services
) -> None:
    assert (await user.start("SignIn")).status_code == 204
    state = (await user.client.get(user.url("/interaction"))).json()
    assert state["interactionEvent"] == "SignIn"
    # The real id, signed by someone without the server's key.
    stored_ids = await _interaction_ids(services)
    forged = URLSafeSerializer(b"k" * 32, salt="phoneauth.interaction-cookie").dumps(
        ["default", stored_ids[0]]
    )
    user.client.cookies.set("phoneauth_interaction", forged, domain="phoneauth.test")
    refused = await user.client.get(user.url("/interaction"))
    assert refused.json()["code"] == "session.not_found"


async def _interaction_ids(services: Services) -> list[str]:
    async with AsyncSession(services.database.engine) as session:
        return list(await session.scalars(select(InteractionRow.id)))


async def test_the_interaction_expires_after_an_hour(user: EndUser, services: Services) -> None:
    clock = Clock()
    services.interactions.clock = clock
    assert (await user.start("Register")).status_code == 204
    verification_id = (await user.send_code(PHONE, "Register")).json()["verificationId"]
    clock.advance(3599)
    state = (await user.client.get(user.url("/interaction"))).json()
    assert state["verificationRecords"][0]["id"] == verification_id
    clock.advance(1)
    expired = await user.client.get(user.url("/interaction"))
    assert expired.status_code == 400
    assert expired.json()["code"] == "session.not_found"
    assert (await user.identify(verification_id)).json()["code"] == "session.not_found"


async def test_expired_interactions_are_deleted_by_the_cleanup_job_not_by_a_start(
    user: EndUser, browser: httpx.AsyncClient, services: Services
) -> None:
    clock = Clock()
    services.interactions.clock = clock
    assert (await user.start("SignIn")).status_code == 204
    browser.cookies.clear()
    assert (await user.start("SignIn")).status_code == 204
    clock.advance(3601)
    browser.cookies.clear()
    assert (await user.start("SignIn")).status_code == 204
    assert len(await _interaction_ids(services)) == 3  # the start waited for no cleanup
    # One round of the job the lifespan runs each minute (its loop: tests/domain).
    assert await delete_expired_interactions(services.interactions, services.tenants.store) == 2
    assert len(await _interaction_ids(services)) == 1
    assert (await user.client.get(user.url("/interaction"))).status_code == 200


async def test_starting_again_replaces_the_interaction(user: EndUser, services: Services) -> None:
    assert (await user.start("SignIn")).status_code == 204
    first = user.client.cookies["phoneauth_interaction"]
    verification_id = (await user.send_code(PHONE)).json()["verificationId"]
    assert (await user.start("Register")).status_code == 204
    assert user.client.cookies["phoneauth_interaction"] != first
    assert len(await _interaction_ids(services)) == 1
    state = (await user.client.get(user.url("/interaction"))).json()
    assert state["interactionEvent"] == "Register"
    assert state["verificationRecords"] == []
    stale = await user.verify(PHONE, verification_id, await user.code(PHONE))
    assert stale.json()["code"] == "session.verification_session_not_found"


async def test_the_state_shows_records_but_never_a_code(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    verification_id = (await user.send_code(PHONE)).json()["verificationId"]
    code = await user.code(PHONE)
    state = (await user.client.get(user.url("/interaction"))).json()
    assert state["interactionEvent"] == "SignIn"
    assert state["userId"] is None
    assert state["profile"] == {}
    assert state["verificationRecords"] == [
        {
            "id": verification_id,
            "type": "PhoneVerificationCode",
            "identifier": {"type": "phone", "value": PHONE},
            "templateType": "SignIn",
            "verified": False,
        }
    ]
    assert code not in str(state)


async def test_switching_to_register_clears_the_pending_profile(
    user: EndUser, services: Services
) -> None:
    await use_experience(services, experience(password=True))
    assert (await user.start("Register")).status_code == 204
    await user.identify(await user.prove_phone(PHONE, "Register"))  # 422: the phone is kept
    assert (await user.client.get(user.url("/interaction"))).json()["profile"] != {}
    assert (await user.put("/interaction-event", {"interactionEvent": "SignIn"})).status_code == 204
    state = (await user.client.get(user.url("/interaction"))).json()
    assert (state["interactionEvent"], state["profile"]) == ("SignIn", {})


async def test_switching_to_a_closed_event_is_403(user: EndUser, services: Services) -> None:
    assert (await user.start("SignIn")).status_code == 204
    await use_experience(services, experience(mode="SignIn"))
    refused = await user.put("/interaction-event", {"interactionEvent": "Register"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.forbidden"


@pytest.mark.parametrize(
    "body", [{}, {"interactionEvent": "Bind"}, {"interactionEvent": "SignIn", "x": 1}]
)
async def test_a_bad_start_is_400(user: EndUser, body: dict[str, object]) -> None:
    refused = await user.put("", body)
    assert refused.status_code == 400
    assert refused.json()["code"] == "guard.invalid_input"


# --- tenants -----------------------------------------------------------------------------------


async def test_each_tenant_has_its_own_interactions_users_and_keys(
    app: FastAPI, api: httpx.AsyncClient, browser: httpx.AsyncClient, services: Services
) -> None:
    created = await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})
    assert created.status_code in (200, 201), created.text
    assert (
        await api.post("/t/acme/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    ).status_code == 200
    acme = EndUser(browser, api, prefix="/t/acme")
    body = await acme.register(PHONE)
    assert body["redirectTo"] == "/t/acme/"
    claims = await verified_claims(browser, body["accessToken"], prefix="/t/acme")
    assert claims["tenant"] == "acme"
    assert await services.users.find_by_phone("default", PHONE) is None
    assert await services.users.find_by_phone("acme", PHONE) is not None
    # An acme interaction cookie means nothing to the default tenant.
    assert (await acme.start("SignIn")).status_code == 204
    default = EndUser(browser, api)
    refused = await browser.get(default.url("/interaction"))
    assert refused.json()["code"] == "session.not_found"
    assert (await browser.get(acme.url("/interaction"))).status_code == 200


async def test_an_unknown_tenant_is_404(browser: httpx.AsyncClient, api: httpx.AsyncClient) -> None:
    nowhere = EndUser(browser, api, prefix="/t/nowhere")
    refused = await nowhere.start("SignIn")
    assert refused.status_code == 404
    assert refused.json()["code"] == "tenant.not_found"
    assert (await browser.get(nowhere.url("/interaction"))).json()["code"] == "tenant.not_found"


async def test_the_openapi_document_lists_the_experience_codes(browser: httpx.AsyncClient) -> None:
    spec = (await browser.get("/openapi.json")).json()
    submit = spec["paths"]["/api/experience/submit"]["post"]["responses"]
    assert "session.mfa.require_mfa_verification" in submit["403"]["description"]
    assert "session.not_found" in submit["400"]["description"]
    identification = spec["paths"]["/t/{tenant_id}/api/experience/identification"]["post"]
    assert "201" in identification["responses"]
    assert "user.phone_already_in_use" in identification["responses"]["422"]["description"]


async def test_cookies_are_secure_over_https(app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://phoneauth.test"
    ) as client:
        started = await client.put("/api/experience", json={"interactionEvent": "SignIn"})
        assert started.status_code == 204
        assert "; secure" in started.headers["set-cookie"].lower()
        assert (await client.get("/api/experience/interaction")).status_code == 200


class RacedStore:
    """The real store, except that one save is overtaken by another request's save of the
    same interaction, just after this request loaded it: a race made to happen every time."""

    def __init__(self, store: InteractionStore) -> None:
        self.store = store
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def update(
        self, tenant_id: str, interaction_id: str, data: dict[str, Any], *, expected_version: int
    ) -> bool:
        if self.armed:
            self.armed = False
            stored = await self.store.get(tenant_id, interaction_id)
            assert stored is not None
            other = {**stored.data, "redirectTo": "/set-by-the-other-tab"}
            assert await self.store.update(
                tenant_id, interaction_id, other, expected_version=expected_version
            )
        return await self.store.update(
            tenant_id, interaction_id, data, expected_version=expected_version
        )


async def test_a_lost_update_is_409_and_the_step_can_be_repeated(
    user: EndUser, services: Services
) -> None:
    await use_experience(services, experience(password=True))
    assert (await user.start("Register")).status_code == 204
    raced = RacedStore(services.interactions.store)
    services.interactions.store = raced
    raced.armed = True
    refused = await user.put("/profile/password", {"password": PASSWORD})
    assert refused.status_code == 409, refused.text
    assert refused.json() == {
        "code": "session.interaction_conflict",
        "message": "Another request changed this sign-in at the same moment: repeat the last step.",
        "details": {},
    }
    state = (await user.client.get(user.url("/interaction"))).json()
    assert "passwordSet" not in state["profile"]  # nothing of the refused step was written
    # The other request's change was kept, not overwritten; repeating the step works.
    assert (await user.put("/profile/password", {"password": PASSWORD})).status_code == 204
    state = (await user.client.get(user.url("/interaction"))).json()
    assert state["profile"] == {"passwordSet": True}
    [row] = await stored_rows(services)
    assert row.data["redirectTo"] == "/set-by-the-other-tab"


async def stored_rows(services: Services) -> list[InteractionRow]:
    async with AsyncSession(services.database.engine) as session:
        return list(await session.scalars(select(InteractionRow)))


async def test_of_two_concurrent_submits_one_opens_a_session(
    user: EndUser, services: Services
) -> None:
    assert (await user.start("Register")).status_code == 204
    assert (await user.identify(await user.prove_phone(PHONE, "Register"))).status_code == 201
    first, second = await asyncio.gather(user.submit(), user.submit())
    statuses = sorted([first.status_code, second.status_code])
    assert statuses[0] == 200, (first.text, second.text)
    loser = second if first.status_code == 200 else first
    # Raced while both were running (409), or came after the winner had ended it (400).
    assert (loser.status_code, loser.json()["code"]) in {
        (409, "session.interaction_conflict"),
        (400, "session.not_found"),
    }
    async with AsyncSession(services.database.engine) as session:
        assert len(list(await session.scalars(select(SessionRow)))) == 1
