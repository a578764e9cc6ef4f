"""Sign-in with phone + code (Logto's flow A) and with phone + password."""

from __future__ import annotations

import logging

import httpx
import pytest
from tests.web.experience.support import (
    OTHER_PHONE,
    PASSWORD,
    PHONE,
    PHONE_CODE_SIGN_IN,
    PHONE_PASSWORD_SIGN_IN,
    EndUser,
    experience,
    use_experience,
    verified_claims,
    wrong,
)

from phoneauth.domain.passwords import hash_password
from phoneauth.wiring import Services


async def test_sign_in_with_phone_and_code(
    user: EndUser, browser: httpx.AsyncClient, services: Services
) -> None:
    existing = await services.users.create("default", phone=PHONE)
    assert (await user.start("SignIn")).status_code == 204
    sent = await user.send_code("4915112345678", "SignIn")  # Logto's digits-only form
    (message,) = await user.messages(PHONE)
    assert message["usageType"] == "SignIn"
    verification_id = sent.json()["verificationId"]
    assert (await user.verify(PHONE, verification_id, message["code"])).status_code == 200
    identified = await user.identify(verification_id)
    assert identified.status_code == 204
    assert identified.content == b""
    state = (await browser.get(user.url("/interaction"))).json()
    assert state["userId"] == existing.id
    submitted = await user.submit()
    assert submitted.status_code == 200
    claims = await verified_claims(browser, submitted.json()["accessToken"])
    assert claims["sub"] == existing.id
    assert "phoneauth_session" in browser.cookies


async def test_an_unknown_phone_is_404_user_not_exist(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.identify(await user.prove_phone(PHONE))
    assert refused.status_code == 404
    assert refused.json()["code"] == "user.user_not_exist"


async def test_phone_code_sign_in_must_be_a_sign_in_method(
    user: EndUser, services: Services
) -> None:
    await services.users.create("default", phone=PHONE)
    assert (await user.start("SignIn")).status_code == 204
    verification_id = await user.prove_phone(PHONE)
    await use_experience(services, experience(methods=[PHONE_PASSWORD_SIGN_IN]))
    refused = await user.identify(verification_id)
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.sign_in_method_not_enabled"


async def test_sign_in_closed_is_403(user: EndUser, services: Services) -> None:
    await use_experience(services, experience(mode="Register"))
    refused = await user.start("SignIn")
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.forbidden"


async def test_an_unverified_record_cannot_identify(user: EndUser, services: Services) -> None:
    await services.users.create("default", phone=PHONE)
    assert (await user.start("SignIn")).status_code == 204
    verification_id = (await user.send_code(PHONE)).json()["verificationId"]
    refused = await user.identify(verification_id)
    assert refused.status_code == 400
    assert refused.json()["code"] == "session.verification_failed"


async def test_sign_in_needs_a_verification_id(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.identify()
    assert refused.status_code == 400
    assert refused.json()["code"] == "guard.invalid_input"


async def test_a_second_user_in_the_same_interaction_is_a_conflict(
    user: EndUser, services: Services
) -> None:
    await services.users.create("default", phone=PHONE)
    await services.users.create("default", phone=OTHER_PHONE)
    assert (await user.start("SignIn")).status_code == 204
    assert (await user.identify(await user.prove_phone(PHONE))).status_code == 204
    conflict = await user.identify(await user.prove_phone(OTHER_PHONE))
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "session.identity_conflict"


async def test_submit_before_identification_is_404(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.submit()
    assert refused.status_code == 404
    assert refused.json()["code"] == "session.identifier_not_found"


async def test_wrong_codes_and_phones_are_refused_with_logtos_codes(
    user: EndUser, services: Services
) -> None:
    await services.users.create("default", phone=PHONE)
    assert (await user.start("SignIn")).status_code == 204
    verification_id = (await user.send_code(PHONE)).json()["verificationId"]
    code = await user.code(PHONE)
    mismatch = await user.verify(PHONE, verification_id, wrong(code))
    assert (mismatch.status_code, mismatch.json()["code"]) == (
        400,
        "verification_code.code_mismatch",
    )
    other = await user.verify(OTHER_PHONE, verification_id, code)
    assert (other.status_code, other.json()["code"]) == (400, "verification_code.phone_mismatch")
    # No valid number is another number too: Logto compares the strings.
    invalid = await user.verify("+49123", verification_id, code)
    assert (invalid.status_code, invalid.json()["code"]) == (
        400,
        "verification_code.phone_mismatch",
    )
    assert (await user.verify(PHONE, verification_id, code)).status_code == 200
    again = await user.verify(PHONE, verification_id, code)
    assert (again.status_code, again.json()["code"]) == (400, "verification_code.not_found")


@pytest.mark.parametrize(
    "body",
    [
        # An email identifier is taken now (test_email_codes.py); a bad address is not.
        {"identifier": {"type": "email", "value": "not-an-address"}, "interactionEvent": "SignIn"},
        {"identifier": {"type": "phone", "value": PHONE}, "interactionEvent": "Bind"},
        {"identifier": {"type": "phone", "value": PHONE}},
        {"identifier": {"type": "phone", "value": PHONE}, "interactionEvent": "SignIn", "x": 1},
    ],
)
async def test_bad_send_bodies_are_400(user: EndUser, body: dict[str, object]) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.post("/verification/verification-code", body)
    assert refused.status_code == 400
    assert refused.json()["code"] == "guard.invalid_input"


async def test_an_invalid_phone_is_400(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.send_code("+49123")
    assert (refused.status_code, refused.json()["code"]) == (400, "phone_number.invalid")


async def test_without_an_sms_connector_sending_is_501(
    browser: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    user = EndUser(browser, api)
    assert (await user.start("SignIn")).status_code == 204
    refused = await user.send_code(PHONE)
    assert (refused.status_code, refused.json()["code"]) == (501, "connector.not_found")


# --- phone + password --------------------------------------------------------------------------


async def password_user(services: Services) -> None:
    await services.users.create("default", phone=PHONE, password_hash=hash_password(PASSWORD))
    await use_experience(
        services,
        experience(password=True, methods=[PHONE_PASSWORD_SIGN_IN, PHONE_CODE_SIGN_IN]),
    )


async def check_password(user: EndUser, password: str, phone: str = PHONE) -> httpx.Response:
    return await user.post(
        "/verification/password",
        {"identifier": {"type": "phone", "value": phone}, "password": password},
    )


async def test_sign_in_with_phone_and_password(
    user: EndUser, browser: httpx.AsyncClient, services: Services
) -> None:
    await password_user(services)
    assert (await user.start("SignIn")).status_code == 204
    checked = await check_password(user, PASSWORD)
    assert checked.status_code == 200
    assert (await user.identify(checked.json()["verificationId"])).status_code == 204
    submitted = await user.submit()
    assert submitted.status_code == 200
    claims = await verified_claims(browser, submitted.json()["accessToken"])
    assert claims["phone"] == PHONE
    assert await user.messages(PHONE) == []  # no SMS for a password sign-in


async def test_a_wrong_password_and_an_unknown_phone_look_the_same(
    user: EndUser, services: Services
) -> None:
    await password_user(services)
    assert (await user.start("SignIn")).status_code == 204
    wrong_password = await check_password(user, "not the password")
    unknown_phone = await check_password(user, PASSWORD, OTHER_PHONE)
    for refused in (wrong_password, unknown_phone):
        assert refused.status_code == 422
        assert refused.json()["code"] == "session.invalid_credentials"
    assert wrong_password.json()["message"] == unknown_phone.json()["message"]


async def test_password_sign_in_must_be_enabled(user: EndUser, services: Services) -> None:
    await services.users.create("default", phone=PHONE, password_hash=hash_password(PASSWORD))
    assert (await user.start("SignIn")).status_code == 204
    refused = await check_password(user, PASSWORD)
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.sign_in_method_not_enabled"


async def test_a_password_record_needs_password_sign_in_at_identification(
    user: EndUser, services: Services
) -> None:
    await password_user(services)
    assert (await user.start("SignIn")).status_code == 204
    verification_id = (await check_password(user, PASSWORD)).json()["verificationId"]
    await use_experience(services, experience())
    refused = await user.identify(verification_id)
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.sign_in_method_not_enabled"


async def test_repeated_wrong_passwords_lock_the_phone(user: EndUser, services: Services) -> None:
    await password_user(services)
    tenant = await services.tenants.get("default")
    settings = tenant.settings.model_copy(
        update={
            "rate_limits": tenant.settings.rate_limits.model_copy(
                update={"failed_verification_limit": 2}
            )
        }
    )
    await services.tenants.update_settings("default", settings)
    assert (await user.start("SignIn")).status_code == 204
    assert (await check_password(user, "wrong password 1")).status_code == 422
    assert (await check_password(user, "wrong password 2")).status_code == 422  # locks
    locked = await check_password(user, PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "session.verification_blocked_too_many_attempts"


async def test_no_password_or_code_reaches_the_log(
    user: EndUser, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the drivers' DEBUG output quotes SQL parameters
    caplog.set_level(logging.DEBUG, logger="phoneauth")
    await password_user(services)
    assert (await user.start("SignIn")).status_code == 204
    await check_password(user, "not the password")
    await check_password(user, PASSWORD)
    verification_id = (await user.send_code(PHONE)).json()["verificationId"]
    code = await user.code(PHONE)
    await user.verify(PHONE, verification_id, wrong(code))
    await user.verify(PHONE, verification_id, code)
    await user.identify(verification_id)
    token = (await user.submit()).json()["accessToken"]
    text = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PASSWORD, "not the password", code, token, PHONE):
        assert secret not in text
