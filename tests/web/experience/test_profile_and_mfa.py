"""Binding a phone during an interaction (Logto's flow D) and SMS as a second factor (flow E)."""

from __future__ import annotations

from typing import Any

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
    wrong,
)

from phoneauth.domain.passwords import hash_password
from phoneauth.domain.users import User
from phoneauth.wiring import Services

PHONE_MFA = {"factors": ["PhoneVerificationCode"], "policy": "UserControlled"}
MANDATORY_MFA = {"factors": ["PhoneVerificationCode"], "policy": "Mandatory"}
MASKED = "+4915*****5678"


async def bind_phone(user: EndUser, verification_id: str) -> Any:
    return await user.post("/profile", {"type": "phone", "verificationId": verification_id})


async def bind_mfa(user: EndUser, verification_id: str) -> Any:
    return await user.post(
        "/profile/mfa", {"type": "PhoneVerificationCode", "verificationId": verification_id}
    )


async def register_without_phone(user: EndUser, services: Services, mfa: dict[str, Any]) -> None:
    """A tenant whose sign-up asks only for a password: the account starts without a phone."""
    await use_experience(
        services,
        experience(identifiers=[], password=True, methods=[PHONE_PASSWORD_SIGN_IN], mfa=mfa),
    )
    assert (await user.start("Register")).status_code == 204
    assert (await user.put("/profile/password", {"password": PASSWORD})).status_code == 204
    assert (await user.identify()).status_code == 201


async def phone_password_user(services: Services, *, mfa: dict[str, Any], bound: bool) -> User:
    await use_experience(
        services, experience(password=True, methods=[PHONE_PASSWORD_SIGN_IN], mfa=mfa)
    )
    created = await services.users.create(
        "default", phone=PHONE, password_hash=hash_password(PASSWORD)
    )
    if bound:
        created = await services.users.set_mfa_factors(
            "default", created.id, ["PhoneVerificationCode"]
        )
    return created


async def password_identify(user: EndUser, phone: str = PHONE) -> None:
    assert (await user.start("SignIn")).status_code == 204
    checked = await user.post(
        "/verification/password",
        {"identifier": {"type": "phone", "value": phone}, "password": PASSWORD},
    )
    assert checked.status_code == 200, checked.text
    assert (await user.identify(checked.json()["verificationId"])).status_code == 204


async def send_mfa(user: EndUser) -> Any:
    return await user.post("/verification/mfa-verification-code", {"identifierType": "phone"})


async def verify_mfa(user: EndUser, verification_id: str, code: str) -> Any:
    return await user.post(
        "/verification/mfa-verification-code/verify",
        {"verificationId": verification_id, "code": code, "identifierType": "phone"},
    )


# --- binding a phone ---------------------------------------------------------------------------


async def test_a_registration_can_bind_the_phone_before_creating_the_account(
    user: EndUser, services: Services
) -> None:
    assert (await user.start("Register")).status_code == 204
    verification_id = await user.prove_phone(PHONE, "Register")
    assert (await bind_phone(user, verification_id)).status_code == 204
    assert (await user.identify()).status_code == 201
    assert (await user.submit()).status_code == 200
    assert await services.users.find_by_phone("default", PHONE) is not None


async def test_an_account_without_a_phone_binds_one(user: EndUser, services: Services) -> None:
    await register_without_phone(user, services, {"factors": [], "policy": "UserControlled"})
    sent = await user.send_code(PHONE, "Register")
    (message,) = await user.messages(PHONE)
    # Identified, and phone is no sign-up identifier: Logto's BindMfa template.
    assert message["usageType"] == "BindMfa"
    verification_id = sent.json()["verificationId"]
    assert (await user.verify(PHONE, verification_id, message["code"])).status_code == 200
    assert (await bind_phone(user, verification_id)).status_code == 204
    submitted = await user.submit()
    assert submitted.status_code == 200
    bound = await services.users.find_by_phone("default", PHONE)
    assert bound is not None
    assert bound.mfa_factors == ()


async def test_a_phone_owned_by_someone_else_cannot_be_bound(
    user: EndUser, services: Services
) -> None:
    await services.users.create("default", phone=PHONE)
    await register_without_phone(user, services, {"factors": [], "policy": "UserControlled"})
    refused = await bind_phone(user, await user.prove_phone(PHONE, "Register"))
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.phone_already_in_use"


async def test_the_phone_is_checked_again_at_submit(user: EndUser, services: Services) -> None:
    await register_without_phone(user, services, {"factors": [], "policy": "UserControlled"})
    assert (await bind_phone(user, await user.prove_phone(PHONE, "Register"))).status_code == 204
    await services.users.create("default", phone=PHONE)  # someone was faster
    refused = await user.submit()
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.phone_already_in_use"
    # Refused before the submit ends the interaction: another number can still be bound.
    assert (await bind_phone(user, await user.prove_phone(OTHER_PHONE, "Register"))).is_success
    assert (await user.submit()).status_code == 200
    assert await services.users.find_by_phone("default", OTHER_PHONE) is not None


async def test_an_account_with_a_phone_cannot_bind_another(
    user: EndUser, services: Services
) -> None:
    await services.users.create("default", phone=PHONE)
    assert (await user.start("SignIn")).status_code == 204
    assert (await user.identify(await user.prove_phone(PHONE))).status_code == 204
    refused = await bind_phone(user, await user.prove_phone(OTHER_PHONE))
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.phone_exists_in_profile"


async def test_binding_needs_a_verified_record(user: EndUser, services: Services) -> None:
    await register_without_phone(user, services, {"factors": [], "policy": "UserControlled"})
    unverified = (await user.send_code(PHONE, "Register")).json()["verificationId"]
    refused = await bind_phone(user, unverified)
    assert (refused.status_code, refused.json()["code"]) == (400, "session.verification_failed")
    unknown = await bind_phone(user, "nope")
    assert (unknown.status_code, unknown.json()["code"]) == (
        404,
        "session.verification_session_not_found",
    )


async def test_profile_steps_are_not_for_a_password_reset(user: EndUser) -> None:
    assert (await user.start("ForgotPassword")).status_code == 204
    for refused in (
        await bind_phone(user, "x"),
        await user.post("/profile", {"type": "password", "value": PASSWORD}),
        await bind_mfa(user, "x"),
    ):
        assert refused.status_code == 400
        assert refused.json()["code"] == "session.not_supported_for_forgot_password"


async def test_a_sign_in_binds_only_after_identification(user: EndUser) -> None:
    assert (await user.start("SignIn")).status_code == 204
    refused = await bind_phone(user, "x")
    assert (refused.status_code, refused.json()["code"]) == (404, "session.identifier_not_found")


async def test_an_account_with_a_password_cannot_add_one(user: EndUser, services: Services) -> None:
    await phone_password_user(
        services, mfa={"factors": [], "policy": "UserControlled"}, bound=False
    )
    await password_identify(user)
    refused = await user.post("/profile", {"type": "password", "value": "yet another one"})
    assert (refused.status_code, refused.json()["code"]) == (
        422,
        "user.password_exists_in_profile",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"type": "social"},
        {"type": "email"},  # no verificationId
        {"type": "phone"},
        {"type": "password"},
        {"type": "phone", "verificationId": "x", "value": "y"},
    ],
)
async def test_bad_profile_bodies_are_400(user: EndUser, body: dict[str, Any]) -> None:
    assert (await user.start("Register")).status_code == 204
    refused = await user.post("/profile", body)
    assert (refused.status_code, refused.json()["code"]) == (400, "guard.invalid_input")


# --- MFA ---------------------------------------------------------------------------------------


async def test_a_bound_phone_factor_is_required_then_verified(
    user: EndUser, services: Services
) -> None:
    await phone_password_user(services, mfa=PHONE_MFA, bound=True)
    await password_identify(user)
    required = await user.submit()
    assert required.status_code == 403
    assert required.json()["code"] == "session.mfa.require_mfa_verification"
    assert required.json()["details"] == {
        "availableFactors": ["PhoneVerificationCode"],
        "maskedIdentifiers": {"PhoneVerificationCode": MASKED},
    }
    sent = await send_mfa(user)
    assert sent.status_code == 200
    (message,) = await user.messages(PHONE)
    assert message["usageType"] == "MfaVerification"
    verification_id = sent.json()["verificationId"]
    mismatch = await verify_mfa(user, verification_id, wrong(message["code"]))
    assert mismatch.json()["code"] == "verification_code.code_mismatch"
    assert (await user.submit()).status_code == 403
    verified = await verify_mfa(user, verification_id, message["code"])
    assert verified.json() == {"verificationId": verification_id}
    assert (await user.submit()).status_code == 200


async def test_profile_changes_in_a_sign_in_wait_for_mfa(user: EndUser, services: Services) -> None:
    await phone_password_user(services, mfa=PHONE_MFA, bound=True)
    await password_identify(user)
    refused = await user.post("/profile", {"type": "password", "value": "yet another one"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "session.mfa.require_mfa_verification"


async def test_mandatory_mfa_requires_the_phone_of_every_user(
    user: EndUser, services: Services
) -> None:
    await phone_password_user(services, mfa=MANDATORY_MFA, bound=False)
    await password_identify(user)
    required = await user.submit()
    assert required.status_code == 403
    assert required.json()["details"]["maskedIdentifiers"] == {"PhoneVerificationCode": MASKED}


async def test_a_bound_factor_the_tenant_no_longer_offers_is_not_asked_for(
    user: EndUser, services: Services
) -> None:
    await phone_password_user(services, mfa={"factors": [], "policy": "UserControlled"}, bound=True)
    await password_identify(user)
    assert (await user.submit()).status_code == 200


async def test_an_unbound_user_needs_no_mfa_when_it_is_optional(
    user: EndUser, services: Services
) -> None:
    await phone_password_user(services, mfa=PHONE_MFA, bound=False)
    await password_identify(user)
    assert (await user.submit()).status_code == 200


async def test_mfa_codes_need_an_identified_user_and_the_factor(
    user: EndUser, services: Services
) -> None:
    await phone_password_user(
        services, mfa={"factors": [], "policy": "UserControlled"}, bound=False
    )
    assert (await user.start("SignIn")).status_code == 204
    anonymous = await send_mfa(user)
    assert (anonymous.status_code, anonymous.json()["code"]) == (
        404,
        "session.identifier_not_found",
    )
    await password_identify(user)
    disabled = await send_mfa(user)
    assert (disabled.status_code, disabled.json()["code"]) == (
        400,
        "session.mfa.mfa_factor_not_enabled",
    )
    unknown = await verify_mfa(user, "nope", "123456")
    assert (unknown.status_code, unknown.json()["code"]) == (
        404,
        "session.verification_session_not_found",
    )


async def test_an_mfa_record_is_no_first_factor(user: EndUser, services: Services) -> None:
    await phone_password_user(services, mfa=PHONE_MFA, bound=True)
    await password_identify(user)
    verification_id = (await send_mfa(user)).json()["verificationId"]
    assert (await verify_mfa(user, verification_id, await user.code(PHONE))).status_code == 200
    refused = await user.identify(verification_id)
    assert (refused.status_code, refused.json()["code"]) == (422, "user.sign_in_method_not_enabled")
    wrong_kind = await user.verify(PHONE, verification_id, "123456")
    assert wrong_kind.json()["code"] == "session.verification_session_not_found"


async def test_bind_phone_mfa_to_an_account_without_a_phone(
    user: EndUser, browser: Any, services: Services
) -> None:
    await register_without_phone(user, services, PHONE_MFA)
    verification_id = await user.prove_phone(PHONE, "Register")
    assert (await user.messages(PHONE))[0]["usageType"] == "BindMfa"
    assert (await bind_mfa(user, verification_id)).status_code == 204
    state = (await browser.get(user.url("/interaction"))).json()
    assert state["profile"]["mfaFactors"] == ["PhoneVerificationCode"]
    assert (await user.submit()).status_code == 200  # binding counts as this sign-up's MFA
    bound = await services.users.find_by_phone("default", PHONE)
    assert bound is not None
    assert bound.mfa_factors == ("PhoneVerificationCode",)

    # From now on, signing in asks for the code.
    await password_identify(user)
    assert (await user.submit()).status_code == 403


async def test_bind_phone_mfa_to_the_accounts_own_phone(user: EndUser, services: Services) -> None:
    await use_experience(
        services, experience(password=True, methods=[PHONE_PASSWORD_SIGN_IN], mfa=PHONE_MFA)
    )
    assert (await user.start("Register")).status_code == 204
    registered_with = await user.prove_phone(PHONE, "Register")
    assert (await user.put("/profile/password", {"password": PASSWORD})).status_code == 204
    assert (await user.identify(registered_with)).status_code == 201
    # Phone is a sign-up identifier: the code uses the event's template, as in Logto.
    verification_id = await user.prove_phone(PHONE, "Register")
    assert [m["usageType"] for m in await user.messages(PHONE)] == ["Register", "Register"]
    assert (await bind_mfa(user, verification_id)).status_code == 204
    assert (await user.submit()).status_code == 200
    bound = await services.users.find_by_phone("default", PHONE)
    assert bound is not None
    assert bound.mfa_factors == ("PhoneVerificationCode",)


async def test_mfa_binding_refusals(user: EndUser, services: Services) -> None:
    await phone_password_user(services, mfa=PHONE_MFA, bound=False)
    await password_identify(user)
    other = await bind_mfa(user, await user.prove_phone(OTHER_PHONE))
    assert (other.status_code, other.json()["code"]) == (422, "user.phone_exists_in_profile")
    unverified = (await user.send_code(PHONE)).json()["verificationId"]
    refused = await bind_mfa(user, unverified)
    assert (refused.status_code, refused.json()["code"]) == (400, "session.verification_failed")
    await use_experience(services, experience(password=True, methods=[PHONE_PASSWORD_SIGN_IN]))
    off = await bind_mfa(user, unverified)
    assert (off.status_code, off.json()["code"]) == (400, "session.mfa.mfa_factor_not_enabled")
    bad_type = await user.post("/profile/mfa", {"type": "Totp", "verificationId": unverified})
    assert (bad_type.status_code, bad_type.json()["code"]) == (400, "guard.invalid_input")


async def test_mfa_binding_needs_an_identified_user(user: EndUser) -> None:
    assert (await user.start("Register")).status_code == 204
    refused = await bind_mfa(user, "x")
    assert (refused.status_code, refused.json()["code"]) == (404, "session.identifier_not_found")


async def test_mandatory_mfa_without_a_phone_is_422_missing_mfa(
    user: EndUser, services: Services
) -> None:
    await register_without_phone(user, services, MANDATORY_MFA)
    refused = await user.submit()
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.missing_mfa"
    assert refused.json()["details"] == {"availableFactors": ["PhoneVerificationCode"]}


async def test_a_registration_code_counts_as_mandatory_mfa(
    user: EndUser, services: Services
) -> None:
    await use_experience(
        services,
        experience(methods=[PHONE_CODE_SIGN_IN, PHONE_PASSWORD_SIGN_IN], mfa=MANDATORY_MFA),
    )
    body = await user.register(PHONE)
    assert set(body) == {"redirectTo", "accessToken", "expiresAt"}
    assert len(await user.messages(PHONE)) == 1  # no second SMS to the phone just proven
