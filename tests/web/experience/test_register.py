"""Registration with phone + code (Logto's flow B), with a password when the tenant asks for one."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from tests.web.account_support import Clock
from tests.web.experience.support import (
    OTHER_PHONE,
    PASSWORD,
    PHONE,
    EndUser,
    experience,
    use_experience,
    verified_claims,
)

from phoneauth.domain.passwords import verify_password
from phoneauth.wiring import Services


async def test_register_with_phone_and_code_signs_the_user_in(
    user: EndUser, browser: httpx.AsyncClient, services: Services
) -> None:
    assert (await user.start("Register")).status_code == 204
    assert "phoneauth_interaction" in browser.cookies
    sent = await user.send_code(PHONE, "Register")
    assert sent.status_code == 200
    assert set(sent.json()) == {"verificationId"}
    (message,) = await user.messages(PHONE)
    assert message["usageType"] == "Register"
    verification_id = sent.json()["verificationId"]
    verified = await user.verify(PHONE, verification_id, await user.code(PHONE))
    assert verified.json() == {"verificationId": verification_id}

    created = await user.identify(verification_id)
    assert created.status_code == 201
    registered = await services.users.find_by_phone("default", PHONE)
    assert registered is not None
    assert registered.password_hash is None

    submitted = await user.submit()
    assert submitted.status_code == 200
    body = submitted.json()
    assert set(body) == {"redirectTo", "accessToken", "expiresAt"}
    assert body["redirectTo"] == "/"
    assert datetime.fromisoformat(body["expiresAt"]) > datetime.now(UTC)
    claims = await verified_claims(browser, body["accessToken"])
    assert claims["sub"] == registered.id
    assert claims["phone"] == PHONE
    assert claims["tenant"] == "default"
    cookie = submitted.headers["set-cookie"]
    assert "phoneauth_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    # The interaction is over: its cookie is cleared and its state is gone.
    assert "phoneauth_interaction" not in browser.cookies
    assert (await user.submit()).json()["code"] == "session.not_found"


async def test_the_session_cookie_and_the_token_authenticate_the_user(
    user: EndUser, browser: httpx.AsyncClient, services: Services
) -> None:
    body = await user.register(PHONE)
    token = browser.cookies["phoneauth_session"]
    by_cookie = await services.sessions.authenticate("default", cookie=token)
    by_token = await services.sessions.authenticate("default", bearer=body["accessToken"])
    assert by_cookie.user_id == by_token.user_id


async def test_the_interaction_cookie_is_http_only_lax_and_lives_an_hour(user: EndUser) -> None:
    started = await user.start("Register")
    cookie = started.headers["set-cookie"]
    assert cookie.startswith("phoneauth_interaction=")
    assert "HttpOnly" in cookie
    assert "Max-Age=3600" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie


async def test_redirect_to_is_kept_until_submit(user: EndUser) -> None:
    assert (await user.start("Register", redirectTo="/welcome?from=sms")).status_code == 204
    created = await user.identify(await user.prove_phone(PHONE, "Register"))
    assert created.status_code == 201
    assert (await user.submit()).json()["redirectTo"] == "/welcome?from=sms"


async def test_redirect_to_must_stay_on_this_site(user: EndUser) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "welcome"):
        response = await user.start("Register", redirectTo=target)
        assert response.status_code == 400, target
        assert response.json()["code"] == "guard.invalid_input"


async def test_a_phone_with_an_account_cannot_register_again(user: EndUser) -> None:
    await user.register(PHONE)
    assert (await user.start("Register")).status_code == 204
    refused = await user.identify(await user.prove_phone(PHONE, "Register"))
    assert refused.status_code == 422
    assert refused.json()["code"] == "user.phone_already_in_use"


async def test_registration_closed_is_403(user: EndUser, services: Services) -> None:
    await use_experience(services, experience(mode="SignIn"))
    refused = await user.start("Register")
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.forbidden"


async def test_registration_closed_meanwhile_is_403_at_identification(
    user: EndUser, services: Services
) -> None:
    assert (await user.start("Register")).status_code == 204
    verification_id = await user.prove_phone(PHONE, "Register")
    await use_experience(services, experience(mode="SignIn"))
    refused = await user.identify(verification_id)
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.forbidden"
    assert await services.users.find_by_phone("default", PHONE) is None


async def test_a_required_password_is_asked_for_then_set(user: EndUser, services: Services) -> None:
    await use_experience(services, experience(password=True))
    assert (await user.start("Register")).status_code == 204
    verification_id = await user.prove_phone(PHONE, "Register")
    missing = await user.identify(verification_id)
    assert missing.status_code == 422
    assert missing.json()["code"] == "user.missing_profile"
    assert missing.json()["details"] == {"missingProfile": ["password"]}
    # The verified phone is already in the profile; the password completes it.
    state = (await user.client.get(user.url("/interaction"))).json()
    assert state["profile"] == {"primaryPhone": PHONE}

    assert (await user.put("/profile/password", {"password": PASSWORD})).status_code == 204
    state = (await user.client.get(user.url("/interaction"))).json()
    assert state["profile"] == {"primaryPhone": PHONE, "passwordSet": True}
    assert PASSWORD not in str(state)
    created = await user.identify()
    assert created.status_code == 201
    registered = await services.users.find_by_phone("default", PHONE)
    assert registered is not None
    assert verify_password(registered.password_hash, PASSWORD)
    assert (await user.submit()).status_code == 200


async def test_logtos_post_profile_password_also_completes_a_registration(
    user: EndUser, services: Services
) -> None:
    await use_experience(services, experience(password=True))
    assert (await user.start("Register")).status_code == 204
    verification_id = await user.prove_phone(PHONE, "Register")
    added = await user.post("/profile", {"type": "password", "value": PASSWORD})
    assert added.status_code == 204
    assert (await user.identify(verification_id)).status_code == 201


async def test_a_weak_password_is_refused(user: EndUser, services: Services) -> None:
    await use_experience(services, experience(password=True))
    assert (await user.start("Register")).status_code == 204
    refused = await user.put("/profile/password", {"password": "12345678"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "password.rejected"


async def test_registering_needs_a_verified_record(user: EndUser) -> None:
    assert (await user.start("Register")).status_code == 204
    sent = (await user.send_code(PHONE, "Register")).json()["verificationId"]
    unverified = await user.identify(sent)
    assert unverified.status_code == 400
    assert unverified.json()["code"] == "session.verification_failed"
    unknown = await user.identify("no-such-verification")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "session.verification_session_not_found"
    nothing = await user.identify()
    assert nothing.status_code == 422
    assert nothing.json()["details"] == {"missingProfile": ["phone"]}


async def test_a_resend_replaces_the_verification_id_and_keeps_the_code(
    user: EndUser, services: Services
) -> None:
    """Logto's new record per send (the old id stops resolving); phoneauth's resend rules: not
    before the cooldown, then the same code again, now under the new id."""
    clock = Clock()
    services.codes.clock = clock
    assert (await user.start("Register")).status_code == 204
    sent = await user.send_code(PHONE, "Register")
    assert sent.headers["resend-after"] == "60"
    first = sent.json()["verificationId"]
    first_code = await user.code(PHONE)
    clock.advance(42)
    early = await user.send_code(PHONE, "Register")
    assert (early.status_code, early.json()["code"]) == (429, "verification_code.resend_too_soon")
    assert early.headers["retry-after"] == "18"
    assert early.json()["details"] == {"retry_after": 18}
    clock.advance(18)
    again = await user.send_code(PHONE, "Register")
    second = again.json()["verificationId"]
    assert first != second
    assert [message["code"] for message in await user.messages(PHONE)] == [first_code] * 2
    stale = await user.verify(PHONE, first, first_code)
    assert stale.status_code == 404
    assert stale.json()["code"] == "session.verification_session_not_found"
    assert (await user.verify(PHONE, second, first_code)).status_code == 200


async def test_registration_then_sign_in_with_the_same_interaction_cookie_jar(
    user: EndUser,
) -> None:
    await user.register(PHONE)
    assert (await user.start("SignIn")).status_code == 204
    identified = await user.identify(await user.prove_phone(PHONE))
    assert identified.status_code == 204
    assert (await user.submit()).status_code == 200


async def test_a_verified_sign_in_code_can_register_after_switching(
    user: EndUser, services: Services
) -> None:
    """Logto's app offers "create account" after 404 user_not_exist, reusing the record."""
    assert (await user.start("SignIn")).status_code == 204
    verification_id = await user.prove_phone(OTHER_PHONE, "SignIn")
    unknown = await user.identify(verification_id)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "user.user_not_exist"
    switched = await user.put("/interaction-event", {"interactionEvent": "Register"})
    assert switched.status_code == 204
    assert (await user.identify(verification_id)).status_code == 201
    assert await services.users.find_by_phone("default", OTHER_PHONE) is not None


async def test_the_send_answer_documents_when_the_next_send_may_go(
    api: httpx.AsyncClient,
) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/experience/verification/verification-code",
        "/api/experience/verification/mfa-verification-code",
    ):
        responses = paths[path]["post"]["responses"]
        assert "Resend-After" in responses["200"]["headers"]
        assert "verification_code.resend_too_soon" in responses["429"]["description"]
        assert "VerificationId" in str(responses["200"]["content"])  # the body as before
