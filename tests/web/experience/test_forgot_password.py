"""Forgot password by SMS (Logto's flow C) and Logto's anti-enumeration on code sends."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send
from tests.web.account_support import Clock, anonymous
from tests.web.experience.support import (
    NEW_PASSWORD,
    OTHER_PHONE,
    PASSWORD,
    PHONE,
    PHONE_CODE_SIGN_IN,
    PHONE_PASSWORD_SIGN_IN,
    EndUser,
    experience,
    use_experience,
    wrong,
)

from phoneauth.domain.passwords import hash_password, verify_password
from phoneauth.domain.sessions import SESSION_COOKIE, IssuedSession
from phoneauth.wiring import Services


async def password_tenant(services: Services) -> None:
    await services.users.create("default", phone=PHONE, password_hash=hash_password(PASSWORD))
    await use_experience(
        services, experience(password=True, methods=[PHONE_PASSWORD_SIGN_IN, PHONE_CODE_SIGN_IN])
    )


async def sign_in_with_password(user: EndUser, password: str) -> httpx.Response:
    assert (await user.start("SignIn")).status_code == 204
    return await user.post(
        "/verification/password",
        {"identifier": {"type": "phone", "value": PHONE}, "password": password},
    )


async def test_reset_the_password_then_sign_in_with_it(user: EndUser, services: Services) -> None:
    await password_tenant(services)
    assert (await user.start("ForgotPassword")).status_code == 204
    verification_id = await user.prove_phone(PHONE, "ForgotPassword")
    (message,) = await user.messages(PHONE)
    assert message["usageType"] == "ForgotPassword"
    assert (await user.identify(verification_id)).status_code == 204
    assert (await user.put("/profile/password", {"password": NEW_PASSWORD})).status_code == 204
    done = await user.submit()
    assert done.status_code == 204
    assert "phoneauth_session" not in user.client.cookies  # a reset opens no session
    stored = await services.users.find_by_phone("default", PHONE)
    assert stored is not None
    assert verify_password(stored.password_hash, NEW_PASSWORD)

    old = await sign_in_with_password(user, PASSWORD)
    assert old.json()["code"] == "session.invalid_credentials"
    new = await sign_in_with_password(user, NEW_PASSWORD)
    assert new.status_code == 200
    assert (await user.identify(new.json()["verificationId"])).status_code == 204
    assert (await user.submit()).status_code == 200


async def test_a_reset_ends_every_session_the_account_had(
    user: EndUser, services: Services, app: FastAPI
) -> None:
    """Whoever knew the old password may be signed in somewhere: after the reset, neither
    their session cookie nor their access token works any more. Other users keep theirs."""
    await password_tenant(services)
    owner = await services.users.find_by_phone("default", PHONE)
    assert owner is not None
    someone = await services.users.create("default", phone=OTHER_PHONE)
    intruder, laptop = (
        await services.sessions.sign_in(owner),
        await services.sessions.sign_in(owner),
    )
    bystander = await services.sessions.sign_in(someone)
    async with anonymous(app) as device:
        for issued in (intruder, laptop, bystander):
            assert (await my_account(device, issued)) == (200, 200)

        assert (await user.start("ForgotPassword")).status_code == 204
        assert (await user.identify(await user.prove_phone(PHONE, "ForgotPassword"))).is_success
        assert (await user.put("/profile/password", {"password": NEW_PASSWORD})).is_success
        assert (await user.submit()).status_code == 204

        assert await my_account(device, intruder) == (401, 401)
        assert await my_account(device, laptop) == (401, 401)
        assert await my_account(device, bystander) == (200, 200)


async def my_account(client: httpx.AsyncClient, issued: IssuedSession) -> tuple[int, int]:
    """`GET /api/my-account` by access token, then by session cookie: the two statuses."""
    client.cookies.clear()
    by_token = await client.get(
        "/api/my-account", headers={"Authorization": f"Bearer {issued.access_token}"}
    )
    client.cookies.set(SESSION_COOKIE, issued.cookie_token)
    by_cookie = await client.get("/api/my-account")
    client.cookies.clear()
    return by_token.status_code, by_cookie.status_code


async def test_submit_without_a_new_password_is_422(user: EndUser, services: Services) -> None:
    await password_tenant(services)
    assert (await user.start("ForgotPassword")).status_code == 204
    assert (await user.identify(await user.prove_phone(PHONE, "ForgotPassword"))).status_code == 204
    refused = await user.submit()
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.new_password_required_in_profile"


async def test_a_new_password_needs_an_identified_user(user: EndUser) -> None:
    assert (await user.start("ForgotPassword")).status_code == 204
    refused = await user.put("/profile/password", {"password": NEW_PASSWORD})
    assert refused.status_code == 404
    assert refused.json()["code"] == "session.identifier_not_found"


async def test_profile_password_is_not_for_sign_in(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.put("/profile/password", {"password": NEW_PASSWORD})
    assert refused.status_code == 400
    assert refused.json()["code"] == "session.invalid_interaction_type"


async def test_a_password_record_cannot_identify_a_reset(user: EndUser, services: Services) -> None:
    await password_tenant(services)
    assert (await user.start("ForgotPassword")).status_code == 204
    checked = await user.post(
        "/verification/password",
        {"identifier": {"type": "phone", "value": PHONE}, "password": PASSWORD},
    )
    refused = await user.identify(checked.json()["verificationId"])
    assert refused.status_code == 422
    assert refused.json()["code"] == "session.not_supported_for_forgot_password"


async def test_sign_in_cannot_become_forgot_password(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.put("/interaction-event", {"interactionEvent": "ForgotPassword"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "session.not_supported_for_forgot_password"


async def test_forgot_password_by_sms_can_be_turned_off(user: EndUser, services: Services) -> None:
    await services.users.create("default", phone=PHONE)
    assert (await user.start("ForgotPassword")).status_code == 204
    verification_id = await user.prove_phone(PHONE, "ForgotPassword")
    await use_experience(services, experience(forgot=["EmailVerificationCode"]))
    refused = await user.identify(verification_id)
    assert refused.status_code == 422
    assert refused.json()["code"] == "session.forgot_password_not_enabled"
    no_send = await user.send_code(PHONE, "ForgotPassword")
    assert no_send.status_code == 422
    assert no_send.json()["code"] == "session.forgot_password_not_enabled"


async def test_forgot_password_cannot_become_sign_in(user: EndUser) -> None:
    assert (await user.start("ForgotPassword")).status_code == 204
    refused = await user.put("/interaction-event", {"interactionEvent": "SignIn"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "session.not_supported_for_forgot_password"


async def test_an_unknown_phone_in_a_reset_is_404_after_the_code(user: EndUser) -> None:
    assert (await user.start("ForgotPassword")).status_code == 204
    sent = await user.send_code(PHONE, "ForgotPassword")
    assert sent.status_code == 200
    refused = await user.identify(sent.json()["verificationId"])
    assert refused.status_code == 400  # never verified: the code was never sent
    assert refused.json()["code"] == "session.verification_failed"


# --- anti-enumeration --------------------------------------------------------------------------


async def lower_recipient_limit(services: Services, limit: int) -> None:
    """The recipient budget at `limit`, and no resend cooldown in its way."""
    tenant = await services.tenants.get("default")
    limits = tenant.settings.rate_limits.model_copy(update={"recipient_limit": limit})
    policy = tenant.settings.verification_code_policy.model_copy(
        update={"resend_cooldown_seconds": 0}
    )
    update = {"rate_limits": limits, "verification_code_policy": policy}
    await services.tenants.update_settings("default", tenant.settings.model_copy(update=update))


def shape(response: httpx.Response) -> tuple[int, list[str], int]:
    """What a caller can compare: status, JSON keys, and the id's length."""
    body = response.json()
    return response.status_code, sorted(body), len(body.get("verificationId", ""))


@pytest.mark.parametrize(
    ("event", "mode"), [("ForgotPassword", "SignInAndRegister"), ("SignIn", "SignIn")]
)
async def test_no_sms_to_an_unknown_phone_and_the_same_answer(
    user: EndUser, services: Services, event: str, mode: str
) -> None:
    await services.users.create("default", phone=PHONE)
    await use_experience(services, experience(mode=mode))
    await lower_recipient_limit(services, 2)
    assert (await user.start(event)).status_code == 204
    known = await user.send_code(PHONE, event)
    unknown = await user.send_code(OTHER_PHONE, event)
    assert shape(known) == shape(unknown) == (200, ["verificationId"], 21)
    assert len(await user.messages(PHONE)) == 1
    assert await user.messages(OTHER_PHONE) == []
    # The code row exists all the same: a guess is a mismatch, not "send a code first".
    guessed = await user.verify(OTHER_PHONE, unknown.json()["verificationId"], "123456")
    assert guessed.json()["code"] == "verification_code.code_mismatch"
    # The suppressed send counted: the limit is reached at the same moment for both phones.
    await user.send_code(PHONE, event)
    await user.send_code(OTHER_PHONE, event)
    known_limited = await user.send_code(PHONE, event)
    unknown_limited = await user.send_code(OTHER_PHONE, event)
    for limited in (known_limited, unknown_limited):
        assert limited.status_code == 429
        assert limited.json()["code"] == "request.message_rate_limited"
    assert await user.messages(OTHER_PHONE) == []


@pytest.mark.parametrize(
    ("event", "mode"), [("ForgotPassword", "SignInAndRegister"), ("SignIn", "SignIn")]
)
async def test_the_resend_cooldown_answers_alike_with_or_without_an_account(
    user: EndUser, services: Services, event: str, mode: str
) -> None:
    """The cooldown reads the stored code, which a suppressed send stores too."""
    clock = Clock()
    services.codes.clock = clock
    await services.users.create("default", phone=PHONE)
    await use_experience(services, experience(mode=mode))
    assert (await user.start(event)).status_code == 204
    answers = []
    for phone in (PHONE, OTHER_PHONE):
        sent = await user.send_code(phone, event)
        clock.advance(1)
        early = await user.send_code(phone, event)
        clock.advance(59)
        again = await user.send_code(phone, event)
        answers.append(
            [
                (r.status_code, r.headers.get("retry-after"), r.headers.get("resend-after"))
                for r in (sent, early, again)
            ]
            + [early.json(), shape(again)]
        )
    assert answers[0] == answers[1]
    assert answers[0][:3] == [(200, None, "60"), (429, "59", None), (200, None, "60")]
    assert answers[0][3]["code"] == "verification_code.resend_too_soon"
    assert len(await user.messages(PHONE)) == 2
    assert await user.messages(OTHER_PHONE) == []


async def test_sign_in_codes_reach_unknown_phones_while_registration_is_open(
    user: EndUser,
) -> None:
    """Registration open: the code may create the account, so it is sent."""
    assert (await user.start("SignIn")).status_code == 204
    assert (await user.send_code(OTHER_PHONE, "SignIn")).status_code == 200
    assert len(await user.messages(OTHER_PHONE)) == 1


async def test_a_suppressed_code_still_needs_a_connector(
    browser: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    """Without a connector both phones get 501: the answer tells nothing about accounts."""
    user = EndUser(browser, api)
    assert (await user.start("ForgotPassword")).status_code == 204
    refused = await user.send_code(OTHER_PHONE, "ForgotPassword")
    assert (refused.status_code, refused.json()["code"]) == (501, "connector.not_found")


def background_sms_tasks() -> int:
    return sum(task.get_name() == "phoneauth-background-sms" for task in asyncio.all_tasks())


async def test_a_registered_numbers_sms_starts_only_after_its_answer_is_written(
    app: FastAPI, api: httpx.AsyncClient, outbox: None, services: Services
) -> None:
    """Started any earlier, its first steps would run while the answer is still being made,
    and make a registered number's answer slower than an unknown one's."""
    await services.users.create("default", phone=PHONE)
    at_answer: list[int] = []

    async def watching(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                at_answer.append(background_sms_tasks())
            await send(message)

        await app(scope, receive, sending)

    transport = httpx.ASGITransport(app=watching)
    async with httpx.AsyncClient(transport=transport, base_url="http://phoneauth.test") as client:
        user = EndUser(client, api)
        assert (await user.start("ForgotPassword")).status_code == 204
        assert (await user.send_code(PHONE, "ForgotPassword")).status_code == 200
    assert background_sms_tasks() == 1  # started once the answer was out
    assert at_answer[-1] == 0
    await services.codes.background.wait()
    assert len(await user.messages(PHONE)) == 1


async def test_verify_rejects_a_wrong_code_to_a_known_phone_the_same_way(
    user: EndUser, services: Services
) -> None:
    await services.users.create("default", phone=PHONE)
    assert (await user.start("ForgotPassword")).status_code == 204
    sent = (await user.send_code(PHONE, "ForgotPassword")).json()["verificationId"]
    refused = await user.verify(PHONE, sent, wrong(await user.code(PHONE)))
    assert refused.json()["code"] == "verification_code.code_mismatch"


async def test_a_reset_to_the_current_password_is_422_user_same_password(
    user: EndUser, services: Services
) -> None:
    await password_tenant(services)
    assert (await user.start("ForgotPassword")).status_code == 204
    verification_id = await user.prove_phone(PHONE, "ForgotPassword")
    assert (await user.identify(verification_id)).status_code == 204
    same = await user.put("/profile/password", {"password": PASSWORD})
    assert same.status_code == 422, same.text
    assert same.json()["code"] == "user.same_password"
    assert same.json()["message"] == (
        "The new password is the same as the current one. Choose a different password."
    )
    # Another password is taken in the same interaction.
    assert (await user.put("/profile/password", {"password": NEW_PASSWORD})).status_code == 204
    assert (await user.submit()).status_code == 204
