"""The Account API: verification records by SMS, `logto-verification-id`, the primary phone."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from tests.web.account_support import (
    NEW_PHONE,
    PHONE,
    THIRD_PHONE,
    Clock,
    anonymous,
    latest_code,
    latest_message,
    signed_in,
    use_outbox,
    wrong,
)

from phoneauth.domain.passwords import hash_password, verify_password
from phoneauth.domain.sign_in_experience import SignInExperience
from phoneauth.domain.tenants import TenantKind
from phoneauth.domain.users import User
from phoneauth.storage.models import UserRow
from phoneauth.wiring import Services

SEND = "/api/verifications/verification-code"
VERIFY = "/api/verifications/verification-code/verify"
PRIMARY = "/api/my-account/primary-phone"
HEADER = "logto-verification-id"


def identifier(phone: str) -> dict[str, str]:
    return {"type": "phone", "value": phone}


@pytest.fixture
async def user(services: Services, api: httpx.AsyncClient) -> User:
    await use_outbox(api)
    # Logto's account center starts disabled; these tests change the phone and the password.
    center = {"enabled": True, "fields": {"phone": "Edit", "password": "Edit"}}
    assert (await api.patch("/api/account-center", json=center)).status_code == 200
    return await services.users.create("default", phone=PHONE)


@pytest.fixture
async def client(app: FastAPI, user: User) -> Any:
    async with signed_in(app, user) as client:
        yield client


async def send(client: httpx.AsyncClient, phone: str, **extra: str) -> str:
    response = await client.post(SEND, json={"identifier": identifier(phone), **extra})
    assert response.status_code == 201, response.text
    record_id: str = response.json()["verificationRecordId"]
    return record_id


async def verified_record(
    client: httpx.AsyncClient, api: httpx.AsyncClient, phone: str, **extra: str
) -> str:
    record_id = await send(client, phone, **extra)
    body = {
        "identifier": identifier(phone),
        "verificationId": record_id,
        "code": await latest_code(api, phone),
    }
    response = await client.post(VERIFY, json=body)
    assert response.status_code == 200, response.text
    return record_id


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


# --- sending and verifying codes --------------------------------------------------------------


async def test_a_code_to_the_own_phone_validates_the_user_for_ten_minutes(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services
) -> None:
    clock = Clock()
    services.account.clock = clock
    response = await client.post(SEND, json={"identifier": identifier("4915112345678")})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"verificationRecordId", "expiresAt"}
    assert (datetime.fromisoformat(body["expiresAt"]) - clock.now).total_seconds() == 600
    message = await latest_message(api, PHONE)
    assert message["usageType"] == "UserPermissionValidation"

    verify = {
        "identifier": identifier(PHONE),
        "verificationId": body["verificationRecordId"],
        "code": message["code"],
    }
    verified = await client.post(VERIFY, json=verify)
    assert verified.status_code == 200
    assert verified.json() == {"verificationRecordId": body["verificationRecordId"]}
    # The code is spent: verifying again finds no code.
    assert_error(await client.post(VERIFY, json=verify), 400, "verification_code.not_found")


async def test_the_template_follows_whose_number_it_is(
    client: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    await send(client, PHONE, templateType="BindMfa")
    assert (await latest_message(api, PHONE))["usageType"] == "BindMfa"
    await send(client, PHONE, templateType="UserPermissionValidation")
    assert (await latest_message(api, PHONE))["usageType"] == "UserPermissionValidation"
    await send(client, NEW_PHONE)
    assert (await latest_message(api, NEW_PHONE))["usageType"] == "BindNewIdentifier"
    # A template asked for applies to the own number only.
    await send(client, THIRD_PHONE, templateType="BindMfa")
    assert (await latest_message(api, THIRD_PHONE))["usageType"] == "BindNewIdentifier"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"identifier": {"type": "email", "value": "not-an-address"}},
        {"identifier": {"type": "username", "value": "alice"}},
        {"identifier": {"type": "phone"}},
        {"identifier": {"type": "phone", "value": PHONE}, "templateType": "SignIn"},
        {"identifier": {"type": "phone", "value": PHONE}, "extra": 1},
    ],
)
async def test_malformed_send_bodies_are_400_invalid_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_error(await client.post(SEND, json=body), 400, "guard.invalid_input")


async def test_an_invalid_phone_is_400_phone_number_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(SEND, json={"identifier": identifier("+49123")})
    assert_error(response, 400, "phone_number.invalid")
    verify = {"identifier": identifier("12"), "verificationId": "x", "code": "123456"}
    record_id = await send(client, PHONE)
    verify["verificationId"] = record_id
    # Not the number the record's code went to: Logto's `phone_mismatch`, in Logto's order.
    assert_error(await client.post(VERIFY, json=verify), 400, "verification_code.phone_mismatch")


async def test_without_an_sms_connector_sending_is_501(
    app: FastAPI, services: Services, api: httpx.AsyncClient
) -> None:
    someone = await services.users.create("default", phone=PHONE)
    async with signed_in(app, someone) as client:
        response = await client.post(SEND, json={"identifier": identifier(PHONE)})
        assert_error(response, 501, "connector.not_found")
        # Digits that are no valid number: the connector lookup answers first (Logto's order).
        digits = await client.post(SEND, json={"identifier": identifier("1233212321")})
        assert_error(digits, 501, "connector.not_found")


async def test_verify_refuses_wrong_codes_unknown_foreign_and_expired_records(
    app: FastAPI, client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services
) -> None:
    clock = Clock()
    services.account.clock = clock
    record_id = await send(client, NEW_PHONE)
    code = await latest_code(api, NEW_PHONE)

    def body(**changes: Any) -> dict[str, Any]:
        return {
            "identifier": identifier(NEW_PHONE),
            "verificationId": record_id,
            "code": code,
        } | changes

    assert_error(
        await client.post(VERIFY, json=body(code=wrong(code))),
        400,
        "verification_code.code_mismatch",
    )
    assert_error(
        await client.post(VERIFY, json=body(verificationId="nope")),
        400,
        "verification_record.not_found",
    )
    assert_error(
        await client.post(VERIFY, json=body(identifier=identifier(THIRD_PHONE))),
        400,
        "verification_code.phone_mismatch",
    )
    other = await services.users.create("default", phone=THIRD_PHONE)
    async with signed_in(app, other) as theirs:
        assert_error(await theirs.post(VERIFY, json=body()), 400, "verification_record.not_found")
    clock.advance(601)
    assert_error(await client.post(VERIFY, json=body()), 400, "verification_record.not_found")
    clock.advance(-601)
    assert (await client.post(VERIFY, json=body())).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"identifier": identifier(PHONE), "verificationId": "x"},
        {"identifier": identifier(PHONE), "verificationId": "", "code": "123456"},
        {"identifier": identifier(PHONE), "verificationId": "x", "code": "1" * 65},
    ],
)
async def test_malformed_verify_bodies_are_400_invalid_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_error(await client.post(VERIFY, json=body), 400, "guard.invalid_input")


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", SEND),
        ("POST", VERIFY),
        ("GET", "/api/my-account"),
        ("POST", PRIMARY),
        ("DELETE", PRIMARY),
    ],
)
async def test_every_account_route_needs_a_signed_in_user(
    app: FastAPI, method: str, path: str
) -> None:
    async with anonymous(app) as client:
        response = await client.request(method, path, json={})
        assert_error(response, 401, "auth.unauthorized")
        forged = await client.request(
            method, path, json={}, headers={"Authorization": "Bearer not.a.jwt"}
        )
        assert_error(forged, 401, "auth.unauthorized")


async def test_my_account_shows_the_public_profile_by_token_or_cookie(
    app: FastAPI, services: Services, user: User
) -> None:
    issued = await services.sessions.sign_in(user)
    async with anonymous(app) as client:
        by_token = await client.get(
            "/api/my-account", headers={"Authorization": f"Bearer {issued.access_token}"}
        )
        client.cookies.set("phoneauth_session", issued.cookie_token)
        by_cookie = await client.get("/api/my-account")
    assert by_token.status_code == by_cookie.status_code == 200
    assert by_token.json() == by_cookie.json() == user.public()
    assert by_token.json()["primaryPhone"] == PHONE
    assert "password" not in str(by_token.json()).lower().replace("haspassword", "")


async def test_a_deleted_user_is_no_longer_signed_in(
    client: httpx.AsyncClient, services: Services, user: User
) -> None:
    assert await services.users.delete("default", user.id)
    assert_error(await client.get("/api/my-account"), 401, "auth.unauthorized")


async def test_tenants_are_separate(
    app: FastAPI, api: httpx.AsyncClient, services: Services, client: httpx.AsyncClient
) -> None:
    await services.tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    await use_outbox(api, "/t/other")
    # A default-tenant token does not open another tenant's account routes.
    assert_error(await client.get("/t/other/api/my-account"), 401, "auth.unauthorized")
    theirs = await services.users.create("other", phone=PHONE)
    async with signed_in(app, theirs) as other:
        assert (await other.get("/t/other/api/my-account")).json()["id"] == theirs.id
        response = await other.post(
            "/t/other/api/verifications/verification-code", json={"identifier": identifier(PHONE)}
        )
        assert response.status_code == 201
        record_id = response.json()["verificationRecordId"]
    code = await latest_code(api, PHONE, "/t/other")
    body = {"identifier": identifier(PHONE), "verificationId": record_id, "code": code}
    # The same user's record id means nothing in the default tenant.
    assert_error(await client.post(VERIFY, json=body), 400, "verification_record.not_found")


# --- the primary phone ---------------------------------------------------------------------


async def test_changing_the_phone_takes_a_fresh_identity_check_and_a_new_number_proof(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services, user: User
) -> None:
    identity = await verified_record(client, api, PHONE)
    new_number = await verified_record(client, api, NEW_PHONE)
    body = {"phone": "4915187654321", "newIdentifierVerificationRecordId": new_number}
    response = await client.post(PRIMARY, json=body, headers={HEADER: identity})
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get("/api/my-account")).json()["primaryPhone"] == NEW_PHONE
    assert (await services.users.find_by_phone("default", PHONE)) is None
    # The proof of the new number is spent.
    again = await client.post(PRIMARY, json=body, headers={HEADER: identity})
    assert_error(again, 400, "verification_record.not_found")


async def test_the_verification_header_must_name_a_verified_identity_record_of_this_user(
    app: FastAPI, client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services
) -> None:
    clock = Clock()
    services.account.clock = clock
    new_number = await verified_record(client, api, NEW_PHONE)
    body = {"phone": NEW_PHONE, "newIdentifierVerificationRecordId": new_number}
    unverified = await send(client, PHONE)
    bind_mfa = await verified_record(client, api, PHONE, templateType="BindMfa")
    other = await services.users.create("default", phone=THIRD_PHONE)
    async with signed_in(app, other) as theirs:
        foreign = await verified_record(theirs, api, THIRD_PHONE)
    for header in ({}, {HEADER: "nope"}, {HEADER: unverified}, {HEADER: bind_mfa}):
        response = await client.post(PRIMARY, json=body, headers=header)
        assert_error(response, 401, "verification_record.permission_denied")
        assert_error(
            await client.delete(PRIMARY, headers=header),
            401,
            "verification_record.permission_denied",
        )
    # A new-number proof is not an identity check, nor is somebody else's record.
    for header in ({HEADER: new_number}, {HEADER: foreign}):
        response = await client.post(PRIMARY, json=body, headers=header)
        assert_error(response, 401, "verification_record.permission_denied")
    identity = await verified_record(client, api, PHONE)
    clock.advance(601)
    response = await client.post(PRIMARY, json=body, headers={HEADER: identity})
    assert_error(response, 401, "verification_record.permission_denied")


async def test_the_new_number_needs_a_verified_bind_new_identifier_record_for_it(
    client: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    identity = await verified_record(client, api, PHONE)
    headers = {HEADER: identity}
    unverified = await send(client, NEW_PHONE)
    other_number = await verified_record(client, api, THIRD_PHONE)
    for record_id in (unverified, other_number, identity, "nope"):
        body = {"phone": NEW_PHONE, "newIdentifierVerificationRecordId": record_id}
        response = await client.post(PRIMARY, json=body, headers=headers)
        assert_error(response, 400, "verification_record.not_found")
    bad_phone = {"phone": "+49123", "newIdentifierVerificationRecordId": other_number}
    response = await client.post(PRIMARY, json=bad_phone, headers=headers)
    assert_error(response, 400, "phone_number.invalid")
    response = await client.post(PRIMARY, json={"phone": NEW_PHONE}, headers=headers)
    assert_error(response, 400, "guard.invalid_input")


async def test_a_number_someone_else_owns_is_422_phone_already_in_use(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services
) -> None:
    identity = await verified_record(client, api, PHONE)
    new_number = await verified_record(client, api, NEW_PHONE)
    await services.users.create("default", phone=NEW_PHONE)
    body = {"phone": NEW_PHONE, "newIdentifierVerificationRecordId": new_number}
    response = await client.post(PRIMARY, json=body, headers={HEADER: identity})
    assert_error(response, 422, "user.phone_already_in_use")


async def _username_sign_in(services: Services) -> None:
    document = SignInExperience.model_validate(
        {
            "signUp": {"identifiers": ["username"], "password": True, "verify": False},
            "signIn": {"methods": [{"identifier": "username", "password": True}]},
        }
    )
    await services.sign_in_experience.store.save("default", document)


async def _give_username_and_password(services: Services, user: User) -> None:
    async with AsyncSession(services.database.engine) as session, session.begin():
        await session.execute(
            update(UserRow)
            .where(UserRow.id == user.id)
            .values(username="ada", password_hash=hash_password("correct horse battery"))
        )


async def test_removing_the_phone_is_refused_while_it_is_the_sign_up_identifier(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services, user: User
) -> None:
    await _give_username_and_password(services, user)
    identity = await verified_record(client, api, PHONE)
    response = await client.delete(PRIMARY, headers={HEADER: identity})
    assert_error(response, 400, "user.phone_required")


async def test_removing_the_phone_is_refused_when_no_way_to_sign_in_is_left(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services, user: User
) -> None:
    await _username_sign_in(services)
    identity = await verified_record(client, api, PHONE)
    response = await client.delete(PRIMARY, headers={HEADER: identity})
    assert_error(response, 400, "user.no_sign_in_method_left")
    await _give_username_and_password(services, user)
    # A username and a password are no way in while username sign-in is switched off.
    document = await services.sign_in_experience.current("default")
    document.sign_in.methods = []
    await services.sign_in_experience.store.save("default", document)
    response = await client.delete(PRIMARY, headers={HEADER: identity})
    assert_error(response, 400, "user.no_sign_in_method_left")


async def test_removing_the_phone_with_another_way_in_left_drops_the_phone_factor(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services, user: User
) -> None:
    await _username_sign_in(services)
    await _give_username_and_password(services, user)
    await services.users.set_mfa_factors("default", user.id, ["PhoneVerificationCode", "Totp"])
    identity = await verified_record(client, api, PHONE)
    response = await client.delete(PRIMARY, headers={HEADER: identity})
    assert response.status_code == 204
    profile = (await client.get("/api/my-account")).json()
    assert profile["primaryPhone"] is None
    assert profile["mfaFactors"] == ["Totp"]
    # Removing an absent phone changes nothing.
    assert (await client.delete(PRIMARY, headers={HEADER: identity})).status_code == 204


async def test_no_code_reaches_the_logs(
    client: httpx.AsyncClient, api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    identity = await verified_record(client, api, PHONE)
    codes = [m["code"] for m in (await api.get("/api/outbox")).json()]
    assert codes
    everything = "\n".join(record.getMessage() for record in caplog.records)
    for code in codes:
        assert code not in everything
    # Our own records name neither the number nor the record id (the SQL driver's DEBUG
    # lines show query parameters, which is why they are off in production).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("phoneauth"))
    assert identity not in ours
    assert PHONE not in ours


async def test_the_account_routes_list_their_error_codes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    def codes(path: str, method: str) -> str:
        responses = paths[path][method]["responses"]
        return " ".join(r.get("description", "") for r in responses.values())

    assert "connector.not_found" in codes(SEND, "post")
    assert "auth.unauthorized" in codes(SEND, "post")
    assert "verification_code.code_mismatch" in codes(VERIFY, "post")
    assert "verification_record.not_found" in codes(VERIFY, "post")
    assert "verification_record.permission_denied" in codes(PRIMARY, "post")
    assert "user.phone_already_in_use" in codes(PRIMARY, "post")
    assert "user.no_sign_in_method_left" in codes(PRIMARY, "delete")
    assert "/t/{tenant_id}/api/my-account" in paths


# --- the password ------------------------------------------------------------------------------

PASSWORD_ROUTE = "/api/my-account/password"


async def test_changing_the_password_takes_a_fresh_identity_check(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services, user: User
) -> None:
    refused = await client.post(PASSWORD_ROUTE, json={"password": "a new password 1"})
    assert_error(refused, 401, "verification_record.permission_denied")
    identity = await verified_record(client, api, PHONE)
    weak = await client.post(PASSWORD_ROUTE, json={"password": "1234"}, headers={HEADER: identity})
    assert_error(weak, 422, "password.rejected")
    done = await client.post(
        PASSWORD_ROUTE, json={"password": "a new password 1"}, headers={HEADER: identity}
    )
    assert done.status_code == 204, done.text
    stored = await services.users.get("default", user.id)
    assert stored is not None
    assert verify_password(stored.password_hash, "a new password 1")


async def test_the_current_password_again_is_422_user_same_password(
    client: httpx.AsyncClient, api: httpx.AsyncClient, services: Services, user: User
) -> None:
    await services.users.set_password("default", user.id, hash_password("the same one 1"))
    identity = await verified_record(client, api, PHONE)
    same = await client.post(
        PASSWORD_ROUTE, json={"password": "the same one 1"}, headers={HEADER: identity}
    )
    assert_error(same, 422, "user.same_password")
    assert "different password" in same.json()["message"]
    stored = await services.users.get("default", user.id)
    assert stored is not None
    assert stored.password_hash is not None
    assert verify_password(stored.password_hash, "the same one 1")
    paths = (await api.get("/openapi.json")).json()["paths"]
    listed = paths[PASSWORD_ROUTE]["post"]["responses"]
    assert "user.same_password" in " ".join(r.get("description", "") for r in listed.values())
