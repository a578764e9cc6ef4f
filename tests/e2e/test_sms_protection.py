"""The SMS pumping defence over real HTTP (issue 16), on SQLite and PostgreSQL: each refusal of
the Management API's send-code and of the Experience API's, the same for a number with an
account and without, and `/api/sms-protection` (settings, suspensions, resume)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment
from tests.e2e.test_logto_order_of_checks import add_outbox, start

DE = "+4915112345678"
DE_NEIGHBOUR = "+4915112345679"
DE_OTHER_BLOCK = "+4915187654321"
LV = "+37125000001"
GB_PREMIUM = "+449098790123"
GB_FIXED = "+442079460000"
GB_FIXED_OTHER = "+442079460001"


@pytest.fixture
def admin(deployment: Deployment) -> Iterator[httpx.Client]:
    with local_http.client(base_url=deployment.url, headers=deployment.auth, timeout=60) as client:
        add_outbox(client)
        yield client


def protect(admin: httpx.Client, **rules: Any) -> dict[str, Any]:
    saved = admin.put("/api/sms-protection", json=rules)
    assert saved.status_code == 200, saved.text
    body: dict[str, Any] = saved.json()
    return body


def send(admin: httpx.Client, phone: str) -> httpx.Response:
    return admin.post("/api/verification-codes", json={"phone": phone})


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert response.json()["message"]  # a sentence, never only the code
    details: dict[str, Any] = response.json()["details"]
    if "retry_after" in details:
        assert response.headers["Retry-After"] == str(details["retry_after"])
    return details


def test_each_refusal_of_the_management_send_and_the_protection_resource(
    admin: httpx.Client,
) -> None:
    shown = admin.get("/api/sms-protection").json()
    assert shown["settings"]["allowedNumberTypes"] == ["mobile", "fixedLineOrMobile"]
    assert shown["suspendedCountries"] == []
    assert shown["today"]["messages"] == 0
    bad = admin.put("/api/sms-protection", json={"deniedCountries": ["Latvia"]})
    assert (bad.status_code, bad.json()["code"]) == (400, "guard.invalid_input"), bad.text

    protect(admin, deniedCountries=["FR"], prefixLimit=2, conversionMinSends=3)
    assert refused(send(admin, "+33612345678"), 422, "phone_number.country_not_allowed") == {
        "country": "FR"
    }
    details = refused(send(admin, GB_PREMIUM), 422, "phone_number.type_not_allowed")
    assert details == {"numberType": "premiumRate"}
    for phone in (DE, DE_NEIGHBOUR):
        assert send(admin, phone).status_code == 204
    details = refused(send(admin, "+4915112345600"), 429, "sms.prefix_rate_limited")
    assert details["retry_after"] > 0

    # The conversion watch: three LV codes never verified, the fourth send suspends LV.
    for index in range(3):
        assert send(admin, f"+3712500{index}000").status_code == 204
    details = refused(send(admin, LV), 429, "sms.country_suspended")
    assert details == {"country": "LV", "retry_after": 3600}
    assert send(admin, DE_OTHER_BLOCK).status_code == 204  # other countries: unaffected
    state = admin.get("/api/sms-protection").json()
    [suspension] = state["suspendedCountries"]
    assert (suspension["country"], suspension["reason"]) == ("LV", "low_conversion")
    assert "0 of 3 codes" in suspension["details"]
    assert state["today"]["messages"] == 6  # every send the rules passed, LV's three included
    resumed = admin.post("/api/sms-protection/suspensions/LV/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["suspendedCountries"] == []
    assert send(admin, LV).status_code == 204
    refused(
        admin.post("/api/sms-protection/suspensions/LV/resume"), 404, "sms.country_not_suspended"
    )

    protect(admin, dailyLimit=7)  # 7 counted today (a cap set now counts the morning too)
    details = refused(send(admin, "+4917612345678"), 429, "sms.daily_cap_reached")
    assert details["cap"] == "tenant"
    assert 0 < details["retry_after"] <= 86_400

    # The tenant setting is the same document: PATCH /api/tenant/settings changes it too.
    patched = admin.patch("/api/tenant/settings", json={"smsProtection": {"dailyLimit": None}})
    assert patched.status_code == 200, patched.text
    assert send(admin, "+4917612345678").status_code == 204


def test_experience_refusals_are_the_same_with_an_account_and_without(
    deployment: Deployment, admin: httpx.Client
) -> None:
    """The check runs before the Experience API looks for an account: a number with one and a
    number without get the same answer, for each refusal."""
    for phone in (DE, GB_FIXED):
        made = admin.post("/api/users", json={"primaryPhone": phone})
        assert made.status_code == 200, made.text

    def answers(with_account: str, without: str) -> list[tuple[int, str, dict[str, Any]]]:
        seen = []
        for phone in (with_account, without):
            with local_http.client(base_url=deployment.url, timeout=60) as end_user:
                start(end_user)
                body = {
                    "identifier": {"type": "phone", "value": phone},
                    "interactionEvent": "SignIn",
                }
                answer = end_user.post("/api/experience/verification/verification-code", json=body)
                details = dict(answer.json().get("details") or {})
                details.pop("retry_after", None)  # seconds: may differ by one between the two
                seen.append((answer.status_code, answer.json().get("code"), details))
        assert seen[0] == seen[1], seen
        return seen

    assert answers(GB_FIXED, GB_FIXED_OTHER)[0][:2] == (422, "phone_number.type_not_allowed")
    protect(admin, deniedCountries=["DE"])
    assert answers(DE, DE_OTHER_BLOCK)[0][:2] == (422, "phone_number.country_not_allowed")
    protect(admin)
    assert admin.post("/api/sms-protection/suspensions/DE", json={}).status_code == 200
    assert answers(DE, DE_OTHER_BLOCK)[0][:2] == (429, "sms.country_suspended")
    assert admin.post("/api/sms-protection/suspensions/DE/resume").status_code == 200
    protect(admin, prefixLimit=1, dailyLimit=3)
    with local_http.client(base_url=deployment.url, timeout=60) as end_user:
        start(end_user)  # one send per block: DE's block and the other block are now full
        for phone in ("+4915112345000", "+4915187654000"):
            body = {"identifier": {"type": "phone", "value": phone}, "interactionEvent": "SignIn"}
            sent = end_user.post("/api/experience/verification/verification-code", json=body)
            assert sent.status_code == 200, sent.text
    assert answers(DE, DE_OTHER_BLOCK)[0][:2] == (429, "sms.prefix_rate_limited")
    protect(admin, prefixLimit=0, dailyLimit=1)
    assert answers(DE, DE_OTHER_BLOCK)[0][:2] == (429, "sms.daily_cap_reached")
