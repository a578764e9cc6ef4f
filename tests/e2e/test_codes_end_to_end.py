"""Verification codes end to end over real HTTP: phoneauth under uvicorn, a fake Twilio on a socket.

Every step is a request a user's backend would make: the Twilio connector is created over the
Management API with its `endpoint` pointing at the fake, the code is read out of the SMS body the
fake received, and it is verified over the API. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests import local_http
from tests.domain.codes_support import Clock, other_code
from tests.e2e.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, Deployment, FakeTwilio
from tests.resend_support import NO_COOLDOWN

TWILIO = "twilio-short-message-service"
PHONE = "+4915112345678"
MASKED_PHONE = "+4915*****5678"
OTHER_PHONE = "+4915187654321"
MASK = "**********"


# --- fixtures and steps ------------------------------------------------------------------------


@pytest.fixture
async def client(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    """A Management API client on the app's real URL, with a global admin key."""
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=30
    ) as client:
        yield client


def twilio_config(twilio: FakeTwilio, auth_token: str = AUTH_TOKEN) -> dict[str, Any]:
    return {
        "accountSID": ACCOUNT_SID,
        "authToken": auth_token,
        "fromMessagingServiceSID": SERVICE_SID,
        "templates": [{"usageType": "Generic", "content": "Your phoneauth code is {{code}}."}],
        "endpoint": twilio.url,
    }


@pytest.fixture
async def connector(client: httpx.AsyncClient, twilio: FakeTwilio) -> dict[str, Any]:
    """The Twilio connector, created over the API like a user would."""
    created = await client.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": twilio_config(twilio)}
    )
    assert created.status_code == 200, created.text
    body: dict[str, Any] = created.json()
    return body


async def send(client: httpx.AsyncClient, phone: str = PHONE) -> httpx.Response:
    return await client.post("/api/verification-codes", json={"phone": phone})


async def verify(client: httpx.AsyncClient, code: str, phone: str = PHONE) -> httpx.Response:
    body = {"phone": phone, "verificationCode": code}
    return await client.post("/api/verification-codes/verify", json=body)


async def sent_code(client: httpx.AsyncClient, twilio: FakeTwilio, phone: str = PHONE) -> str:
    """Ask for a code; the one the fake Twilio received for `phone`."""
    before = len(twilio.messages)
    response = await send(client, phone)
    assert response.status_code == 204, response.text
    assert len(twilio.messages) == before + 1
    sms = twilio.messages[-1]
    assert sms.to == phone
    return sms.code


def error_code(response: httpx.Response) -> str:
    return str(response.json()["code"])


async def patch_settings(client: httpx.AsyncClient, changes: dict[str, Any]) -> dict[str, Any]:
    response = await client.patch("/api/tenant/settings", json=changes)
    assert response.status_code == 200, response.text
    settings: dict[str, Any] = response.json()["settings"]
    return settings


async def message_logs(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    response = await client.get("/api/message-logs", params=filters)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    assert response.headers["Total-Number"] == str(len(entries))
    return entries


# --- the cases ---------------------------------------------------------------------------------


async def test_a_code_sent_through_twilio_is_verified_once(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    assert connector["connectorId"] == TWILIO
    assert connector["config"]["authToken"] == MASK
    assert connector["config"]["endpoint"] == twilio.url

    code = await sent_code(client, twilio)
    sms = twilio.messages[0]
    assert sms.body == f"Your phoneauth code is {code}."
    assert sms.messaging_service_sid == SERVICE_SID
    assert twilio.answers == [201]

    assert (await verify(client, code)).status_code == 204
    again = await verify(client, code)
    assert (again.status_code, error_code(again)) == (400, "verification_code.not_found")

    response = await client.get("/api/message-logs")
    assert code not in response.text
    [entry] = await message_logs(client)
    assert entry["status"] == "sent"
    assert entry["providerMessageId"] == sms.sid
    assert entry["phone"] == MASKED_PHONE
    assert (entry["connectorId"], entry["factoryId"]) == (connector["id"], TWILIO)
    assert (entry["usageType"], entry["errorCode"], entry["errorMessage"]) == (
        "Generic",
        None,
        None,
    )
    assert isinstance(entry["latencyMs"], int)


async def test_a_wrong_code_is_refused_and_the_right_one_still_works(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    code = await sent_code(client, twilio)
    wrong = await verify(client, other_code(code))
    assert (wrong.status_code, error_code(wrong)) == (400, "verification_code.code_mismatch")
    assert (await verify(client, code)).status_code == 204


async def test_too_many_wrong_codes_exhaust_the_code(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    policy = {"maxRetryAttempts": 2, "resendCooldownSeconds": 0}
    settings = await patch_settings(client, {"verificationCodePolicy": policy})
    assert settings["verificationCodePolicy"] == {
        "expirationDuration": 600,
        "maxRetryAttempts": 2,
        "resendKeepsCode": True,
        "resendCooldownSeconds": 0,
    }
    code = await sent_code(client, twilio)
    for _ in range(2):
        wrong = await verify(client, other_code(code))
        assert error_code(wrong) == "verification_code.code_mismatch"
    for attempt in (other_code(code), code):  # even the right code is refused now
        exhausted = await verify(client, attempt)
        assert (exhausted.status_code, error_code(exhausted)) == (
            400,
            "verification_code.exceed_max_try",
        )
    assert (await verify(client, await sent_code(client, twilio))).status_code == 204


async def test_a_code_past_its_lifetime_is_expired(
    client: httpx.AsyncClient,
    twilio: FakeTwilio,
    connector: dict[str, Any],
    deployment: Deployment,
) -> None:
    clock = Clock()
    deployment.services.codes.clock = clock  # the running app's codes engine reads this clock
    await patch_settings(client, {"verificationCodePolicy": {"expirationDuration": 60}})
    code = await sent_code(client, twilio)
    clock.advance(59)
    still_alive = await verify(client, other_code(code))
    assert error_code(still_alive) == "verification_code.code_mismatch"
    clock.advance(2)
    expired = await verify(client, code)
    assert (expired.status_code, error_code(expired)) == (400, "verification_code.expired")
    assert (await verify(client, await sent_code(client, twilio))).status_code == 204


async def test_the_recipient_limit_answers_429_with_retry_after(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    settings = await patch_settings(client, {"rateLimits": {"recipientLimit": 2}, **NO_COOLDOWN})
    assert settings["rateLimits"]["recipientLimit"] == 2
    await sent_code(client, twilio)
    await sent_code(client, twilio)
    limited = await send(client)
    assert (limited.status_code, error_code(limited)) == (429, "request.message_rate_limited")
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= settings["rateLimits"]["recipientWindowSeconds"]
    assert limited.json()["details"]["retry_after"] == retry_after
    assert len(twilio.messages) == 2  # the refused request sent nothing
    await sent_code(client, twilio, OTHER_PHONE)  # the limit is per recipient
    assert [entry["status"] for entry in await message_logs(client)] == ["sent"] * 3


async def test_a_resend_sends_the_same_code_and_waits_for_the_cooldown(
    client: httpx.AsyncClient,
    twilio: FakeTwilio,
    connector: dict[str, Any],
    deployment: Deployment,
) -> None:
    clock = Clock()
    deployment.services.codes.clock = clock
    first = await send(client)
    assert first.headers["Resend-After"] == "60"
    clock.advance(20)
    early = await send(client)
    assert (early.status_code, error_code(early)) == (429, "verification_code.resend_too_soon")
    assert early.headers["Retry-After"] == "40"
    assert early.json()["details"] == {"retry_after": 40}
    assert len(twilio.messages) == 1  # the refused request sent nothing
    clock.advance(40)
    again = await send(client)
    assert again.status_code == 204, again.text
    assert [sms.code for sms in twilio.messages] == [twilio.messages[0].code] * 2
    # One code, one attempt budget: a wrong try counts for both messages.
    assert error_code(await verify(client, other_code(twilio.messages[0].code))) == (
        "verification_code.code_mismatch"
    )
    assert (await verify(client, twilio.messages[1].code)).status_code == 204


async def test_without_a_cooldown_resends_follow_at_once_and_the_setting_off_brings_new_codes(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    await patch_settings(client, NO_COOLDOWN)
    kept = [await sent_code(client, twilio) for _ in range(2)]
    assert kept[0] == kept[1]
    assert (await client.post("/api/verification-codes", json={"phone": PHONE})).headers[
        "Resend-After"
    ] == "0"
    await patch_settings(client, {"verificationCodePolicy": {"resendKeepsCode": False}})
    fresh = await sent_code(client, twilio)  # a new code replaces the waiting one
    newer = await sent_code(client, twilio)
    if fresh != newer:  # equal only by a one-in-a-million chance
        assert error_code(await verify(client, fresh)) == "verification_code.code_mismatch"
    assert (await verify(client, newer)).status_code == 204


async def test_a_provider_failure_reaches_the_caller_and_the_message_log(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    revoked = twilio_config(twilio, auth_token="revoked-token")
    patched = await client.patch(f"/api/connectors/{connector['id']}", json={"config": revoked})
    assert patched.status_code == 200, patched.text

    failed = await send(client)
    assert (failed.status_code, error_code(failed)) == (502, "connector.authorization_failed")
    assert failed.json()["details"]["provider_code"] == 20003
    assert "Authenticate" in failed.json()["message"]
    assert (twilio.answers, twilio.messages) == ([401], [])

    [entry] = await message_logs(client, status="failed")
    assert entry["errorCode"] == "connector.authorization_failed"
    assert "Authenticate" in entry["errorMessage"]
    assert (entry["providerMessageId"], entry["phone"]) == (None, MASKED_PHONE)
    assert (entry["connectorId"], entry["factoryId"]) == (connector["id"], TWILIO)
    assert isinstance(entry["latencyMs"], int)

    # The right token again: the next code goes out, without a restart.
    restored = await client.patch(
        f"/api/connectors/{connector['id']}", json={"config": twilio_config(twilio)}
    )
    assert restored.status_code == 200
    assert (await verify(client, await sent_code(client, twilio))).status_code == 204
    assert [entry["status"] for entry in await message_logs(client)] == ["sent", "failed"]


async def test_a_new_connector_takes_the_very_next_code(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    await patch_settings(client, NO_COOLDOWN)
    await sent_code(client, twilio)
    outbox = await client.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert outbox.status_code == 200, outbox.text
    listed = (await client.get("/api/connectors")).json()
    assert [saved["id"] for saved in listed] == [outbox.json()["id"]]

    assert (await send(client)).status_code == 204
    assert len(twilio.messages) == 1  # Twilio received nothing more
    kept = await client.get("/api/outbox", params={"phone": PHONE})
    assert kept.status_code == 200
    [message] = kept.json()
    assert (message["to"], message["usageType"]) == (PHONE, "Generic")
    assert message["code"] in message["text"]
    assert (await verify(client, message["code"])).status_code == 204

    newest, oldest = await message_logs(client)
    assert (newest["factoryId"], newest["providerMessageId"]) == ("outbox-sms", message["id"])
    assert (oldest["factoryId"], oldest["providerMessageId"]) == (TWILIO, twilio.messages[0].sid)


async def test_without_a_connector_a_code_request_is_501(
    client: httpx.AsyncClient, twilio: FakeTwilio, connector: dict[str, Any]
) -> None:
    # The default sign-in experience needs the SMS connector: only a forced delete goes through.
    deleted = await client.delete(f"/api/connectors/{connector['id']}", params={"force": "true"})
    assert deleted.status_code == 204
    assert (await client.get("/api/connectors")).json() == []

    missing = await send(client)
    assert (missing.status_code, error_code(missing)) == (501, "connector.not_found")
    assert missing.json()["details"] == {"type": "Sms"}
    assert twilio.answers == []

    [entry] = await message_logs(client)
    assert (entry["status"], entry["errorCode"]) == ("failed", "connector.not_found")
    assert (entry["connectorId"], entry["factoryId"], entry["phone"]) == (None, None, MASKED_PHONE)


async def test_the_experience_cooldown_answers_alike_with_or_without_an_account(
    client: httpx.AsyncClient,
    twilio: FakeTwilio,
    connector: dict[str, Any],
    deployment: Deployment,
) -> None:
    """Registration closed: a sign-in code to a number without account is stored, never sent
    (Logto's anti-enumeration); the cooldown reads the stored code, so both numbers answer the
    same, header for header."""
    clock = Clock()
    deployment.services.codes.clock = clock
    created = await client.post("/api/users", json={"primaryPhone": PHONE})
    assert created.status_code == 200, created.text
    closed = await client.patch("/api/sign-in-exp", json={"signInMode": "SignIn"})
    assert closed.status_code == 200, closed.text
    async with local_http.async_client(base_url=deployment.url, timeout=30) as browser:
        started = await browser.put("/api/experience", json={"interactionEvent": "SignIn"})
        assert started.status_code == 204, started.text

        async def send_code(phone: str) -> httpx.Response:
            body = {"identifier": {"type": "phone", "value": phone}, "interactionEvent": "SignIn"}
            return await browser.post("/api/experience/verification/verification-code", json=body)

        answers = []
        for phone in (PHONE, OTHER_PHONE):
            first = await send_code(phone)
            clock.advance(1)
            early = await send_code(phone)
            clock.advance(59)
            again = await send_code(phone)
            seen = [
                (r.status_code, r.headers.get("Retry-After"), r.headers.get("Resend-After"))
                for r in (first, early, again)
            ]
            answers.append([*seen, early.json(), sorted(again.json())])
    assert answers[0] == answers[1]
    assert answers[0][:3] == [(200, None, "60"), (429, "59", None), (200, None, "60")]
    assert answers[0][3]["code"] == "verification_code.resend_too_soon"
    deployment.run(deployment.services.codes.background.wait())  # the SMS after the answer
    assert {sms.to for sms in twilio.messages} == {PHONE}  # the number with an account only
    assert len(twilio.messages) == 2
    assert twilio.messages[0].code == twilio.messages[1].code
