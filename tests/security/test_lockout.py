"""The wrong-code lockout under attack: a locked number gets no new code and no SMS, the lock
comes at exactly `failedVerificationLimit` wrong codes, and a send the provider refused does not
take away the code already on the user's phone.

Before: a number locked by `session.verification_blocked_too_many_attempts` still got new codes
and real SMS (each one a fresh set of tries for whoever was guessing, and an SMS bill); the
limit-th wrong code was already answered 429 instead of as the mismatch it was; and a send that
failed at the provider (502, 504) had already replaced the number's waiting code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment
from tests.security.sms_gateway import (
    Gateway,
    allowing_local_gateways,
    register,
    send_experience_code,
    serve_gateway,
    use_gateway,
    verify_experience_code,
)

from phoneauth.settings import Settings

PHONE = "+4915112345678"
UNKNOWN = "+4915187654321"
LIMIT = 3
LOCKOUT_S = 900
BLOCKED = "session.verification_blocked_too_many_attempts"


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings) -> Settings:
    # A provider that takes 2 s is a timeout (504 connector.timeout) here.
    return allowing_local_gateways(module_settings.model_copy(update={"http_timeout": 1.0}))


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with serve_gateway() as fast:
        yield fast


@pytest.fixture
async def admin(deployment: Deployment, gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=30
    ) as client:
        await use_gateway(
            client,
            gateway,
            failedVerificationLimit=LIMIT,
            lockoutSeconds=LOCKOUT_S,
            ipLimit=10_000,
            recipientLimit=100,
        )
        yield client


async def send(admin: httpx.AsyncClient, phone: str = PHONE) -> httpx.Response:
    return await admin.post("/api/verification-codes", json={"phone": phone})


async def verify(admin: httpx.AsyncClient, code: str, phone: str = PHONE) -> httpx.Response:
    return await admin.post(
        "/api/verification-codes/verify", json={"phone": phone, "verificationCode": code}
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def assert_blocked(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == BLOCKED
    retry_after = int(response.headers["retry-after"])
    assert LOCKOUT_S - 10 <= retry_after <= LOCKOUT_S  # seconds until the lock ends
    assert response.json()["details"] == {"retry_after": retry_after}


async def test_with_a_limit_of_3_the_3rd_wrong_code_is_a_mismatch_that_locks_and_the_4th_try_is_429(
    admin: httpx.AsyncClient, gateway: Gateway
) -> None:
    assert (await send(admin)).status_code == 204
    code = gateway.code(PHONE)
    for attempt in range(1, LIMIT + 1):
        answer = await verify(admin, wrong(code))
        assert (answer.status_code, answer.json()["code"]) == (
            400,
            "verification_code.code_mismatch",
        ), f"wrong code {attempt} of {LIMIT}"
    assert_blocked(await verify(admin, code))  # locked: even the right code


async def test_a_locked_number_gets_no_new_code_and_no_sms_from_the_management_api(
    admin: httpx.AsyncClient, gateway: Gateway
) -> None:
    assert (await send(admin)).status_code == 204
    code = gateway.code(PHONE)
    for _ in range(LIMIT):
        await verify(admin, wrong(code))
    sms_before = len(gateway.received)

    for _ in range(3):
        assert_blocked(await send(admin))

    assert len(gateway.received) == sms_before
    logged = (await admin.get("/api/message-logs")).json()
    assert len(logged) == 1  # only the first code's SMS was ever attempted
    assert (await send(admin, UNKNOWN)).status_code == 204  # other numbers are not locked


@pytest.mark.parametrize(
    ("event", "mode"),
    [("ForgotPassword", "SignInAndRegister"), ("SignIn", "SignIn")],
    ids=["forgot-password", "sign-in-while-registration-is-closed"],
)
async def test_a_locked_number_gets_no_code_from_the_experience_api_whether_registered_or_not(
    deployment: Deployment, admin: httpx.AsyncClient, gateway: Gateway, event: str, mode: str
) -> None:
    """In the flows that hide whether a number has an account, a locked number is refused the
    same way with an account or without: a lock only says that someone guessed at it."""
    await register(deployment.url, gateway, PHONE)
    changed = await admin.patch("/api/sign-in-exp", json={"signInMode": mode})
    assert changed.status_code == 200, changed.text
    async with local_http.async_client(base_url=deployment.url, timeout=30) as client:
        assert (await client.put("/api/experience", json={"interactionEvent": event})).is_success
        for phone in (PHONE, UNKNOWN):
            sent = await send_experience_code(client, phone, event)
            assert sent.status_code == 200, sent.text
            for _ in range(LIMIT):
                guess = await verify_experience_code(
                    client, phone, sent.json()["verificationId"], "000000"
                )
                assert guess.json()["code"] == "verification_code.code_mismatch"
        await gateway.wait_for(PHONE, 2)  # the registration's SMS and this flow's first
        sms_before = len(gateway.received)

        known = await send_experience_code(client, PHONE, event)
        unknown = await send_experience_code(client, UNKNOWN, event)

    assert_blocked(known)
    assert_blocked(unknown)
    assert known.json()["message"] == unknown.json()["message"]
    await asyncio.sleep(0.3)  # an SMS sent in the background would have reached it by now
    assert len(gateway.received) == sms_before


@pytest.mark.parametrize("failure", ["502 from the provider", "provider timeout"])
async def test_a_send_the_provider_refused_keeps_the_waiting_code_valid(
    admin: httpx.AsyncClient, gateway: Gateway, failure: str
) -> None:
    assert (await send(admin)).status_code == 204
    waiting = gateway.code(PHONE)
    if failure == "provider timeout":
        gateway.delay = 2.0
        expected = (504, "connector.timeout")
    else:
        gateway.failing = True
        expected = (502, "connector.general")

    refused = await send(admin)

    assert (refused.status_code, refused.json()["code"]) == expected, refused.text
    gateway.failing, gateway.delay = False, 0.0
    assert (await verify(admin, waiting)).status_code == 204  # the code on the phone works
