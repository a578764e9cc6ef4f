"""The email address in the Account API (logto-parity §5.2, §5.3) and the Experience profile
(§3.5, §3.6), over real HTTP on SQLite and PostgreSQL with the development email outbox:
identity by password or email code, adding, changing and removing the address, binding it while
signing in or registering, and Logto's checks in Logto's order."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

PASSWORD = "Str0ng-Passphrase!"
SEND = "/api/verifications/verification-code"
VERIFY = "/api/verifications/verification-code/verify"
PRIMARY = "/api/my-account/primary-email"
HEADER = "logto-verification-id"
PASSWORD_SIGN_IN = [
    {"identifier": kind, "password": True, "verificationCode": False, "isPasswordPrimary": True}
    for kind in ("username", "email")
]


def answer(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


def set_up(admin: httpx.Client, sign_up: dict[str, Any] | None = None) -> None:
    """The email outbox, username or email + password sign-in, the account center open."""
    assert admin.post("/api/connectors", json={"connectorId": "outbox-email"}).status_code == 200
    document = {
        "signUp": sign_up or {"identifiers": ["username"], "password": True, "verify": False},
        "signIn": {"methods": PASSWORD_SIGN_IN},
    }
    assert admin.patch("/api/sign-in-exp", json=document).status_code == 200
    center = {"enabled": True, "fields": {"email": "Edit", "password": "Edit"}}
    assert admin.patch("/api/account-center", json=center).status_code == 200


def create_user(admin: httpx.Client, **fields: Any) -> str:
    created = admin.post("/api/users", json=fields)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def code_of(admin: httpx.Client, email: str) -> dict[str, str]:
    messages: list[dict[str, str]] = admin.get("/api/outbox", params={"email": email}).json()
    assert messages, f"no email to {email}"
    return messages[0]


def password_session(end_user: httpx.Client, kind: str, value: str) -> None:
    """A SignIn interaction identified by password (not yet submitted)."""
    assert end_user.put("/api/experience", json={"interactionEvent": "SignIn"}).status_code == 204
    body = {"identifier": {"type": kind, "value": value}, "password": PASSWORD}
    checked = end_user.post("/api/experience/verification/password", json=body)
    assert checked.status_code == 200, checked.text
    identified = end_user.post(
        "/api/experience/identification", json={"verificationId": checked.json()["verificationId"]}
    )
    assert identified.status_code == 204, identified.text


def signed_in(end_user: httpx.Client, kind: str, value: str) -> dict[str, str]:
    """The Authorization header of a new session."""
    password_session(end_user, kind, value)
    submitted = end_user.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    return {"Authorization": f"Bearer {submitted.json()['accessToken']}"}


def email_record(
    admin: httpx.Client, end_user: httpx.Client, me: dict[str, str], email: str
) -> tuple[str, str]:
    """An Account API email record and the template its email used; verified."""
    sent = end_user.post(SEND, json={"identifier": {"type": "email", "value": email}}, headers=me)
    assert sent.status_code == 201, sent.text
    record_id = sent.json()["verificationRecordId"]
    message = code_of(admin, email)
    body = {
        "identifier": {"type": "email", "value": email},
        "verificationId": record_id,
        "code": message["code"],
    }
    verified = end_user.post(VERIFY, json=body, headers=me)
    assert verified.status_code == 200, verified.text
    return record_id, message["usageType"]


def test_account_api_adds_changes_and_removes_the_email_address(
    admin: httpx.Client, end_user: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    set_up(admin)
    create_user(admin, username="alice", password=PASSWORD)
    create_user(admin, primaryEmail="taken@example.com", password=PASSWORD)
    me = signed_in(end_user, "username", "alice")
    assert end_user.get("/api/my-account", headers=me).json()["primaryEmail"] is None
    change = {"email": "Alice@Example.com", "newIdentifierVerificationRecordId": "none"}
    assert answer(end_user.post(PRIMARY, json=change, headers=me)) == (
        401,
        "verification_record.permission_denied",
    )

    # Identity by password: Logto's 201 {verificationRecordId, expiresAt}, 422 when wrong.
    wrong = end_user.post("/api/verifications/password", json={"password": "nope"}, headers=me)
    assert answer(wrong) == (422, "session.invalid_credentials")
    proof = end_user.post("/api/verifications/password", json={"password": PASSWORD}, headers=me)
    assert proof.status_code == 201, proof.text
    assert set(proof.json()) == {"verificationRecordId", "expiresAt"}
    me_verified = {**me, HEADER: proof.json()["verificationRecordId"]}
    admin.patch("/api/account-center", json={"enabled": True, "fields": {"email": "ReadOnly"}})
    assert answer(end_user.post(PRIMARY, json=change, headers=me_verified)) == (
        400,
        "account_center.field_not_editable",
    )
    admin.patch("/api/account-center", json={"enabled": True, "fields": {"email": "Edit"}})

    # A code to a new address: BindNewIdentifier; unverified, another address or another
    # record type is Logto's 400 `verification_record.not_found`.
    sent = end_user.post(
        SEND, json={"identifier": {"type": "email", "value": "Alice@Example.com"}}, headers=me
    )
    assert sent.status_code == 201, sent.text
    record_id = sent.json()["verificationRecordId"]
    message = code_of(admin, "Alice@example.com")
    assert message["usageType"] == "BindNewIdentifier"
    unverified = {"email": "Alice@Example.com", "newIdentifierVerificationRecordId": record_id}
    assert answer(end_user.post(PRIMARY, json=unverified, headers=me_verified)) == (
        400,
        "verification_record.not_found",
    )
    check = {"verificationId": record_id, "code": message["code"]}
    mismatch = {**check, "identifier": {"type": "email", "value": "bob@example.com"}}
    assert answer(end_user.post(VERIFY, json=mismatch, headers=me)) == (
        400,
        "verification_code.email_mismatch",
    )
    as_phone = {**check, "identifier": {"type": "phone", "value": "4915112345678"}}
    assert answer(end_user.post(VERIFY, json=as_phone, headers=me)) == (
        400,
        "verification_record.not_found",
    )
    proper = {**check, "identifier": {"type": "email", "value": "Alice@Example.com"}}
    assert end_user.post(VERIFY, json=proper, headers=me).status_code == 200
    other = {"email": "other@example.com", "newIdentifierVerificationRecordId": record_id}
    assert answer(end_user.post(PRIMARY, json=other, headers=me_verified)) == (
        400,
        "verification_record.not_found",
    )
    assert answer(end_user.post(PRIMARY, json={**change, "email": "bad"}, headers=me)) == (
        400,
        "guard.invalid_input",
    )
    done = end_user.post(PRIMARY, json=unverified, headers=me_verified)
    assert done.status_code == 204, done.text
    assert end_user.get("/api/my-account", headers=me).json()["primaryEmail"] == (
        "Alice@example.com"
    )

    # The tenant's email blocklist, checked before the record (Logto's order).
    policy = {"emailBlocklistPolicy": {"customBlocklist": ["@blocked.example"]}}
    assert admin.patch("/api/sign-in-exp", json=policy).status_code == 200
    blocked = {"email": "a@Blocked.example", "newIdentifierVerificationRecordId": "none"}
    assert answer(end_user.post(PRIMARY, json=blocked, headers=me_verified)) == (
        422,
        "session.email_blocklist.email_not_allowed",
    )

    # Someone else's address: 422; a code to the own address proves identity.
    taken_id, _ = email_record(admin, end_user, me, "taken@example.com")
    taken = {"email": "taken@example.com", "newIdentifierVerificationRecordId": taken_id}
    assert answer(end_user.post(PRIMARY, json=taken, headers=me_verified)) == (
        422,
        "user.email_already_in_use",
    )
    own_id, template = email_record(admin, end_user, me, "alice@example.com")
    assert template == "UserPermissionValidation"
    removed = end_user.delete(PRIMARY, headers={**me, HEADER: own_id})
    assert removed.status_code == 204, removed.text
    assert end_user.get("/api/my-account", headers=me).json()["primaryEmail"] is None
    assert "wrong password in an identity check" in caplog.text  # the logs are seen
    # No address or password in any log line.
    logged = caplog.text.lower()
    assert "alice@example.com" not in logged
    assert PASSWORD.lower() not in logged


def test_the_last_identifier_cannot_be_removed(admin: httpx.Client, end_user: httpx.Client) -> None:
    set_up(admin, {"identifiers": ["email"], "password": True, "verify": True})
    create_user(admin, primaryEmail="carol@example.com", password=PASSWORD)
    me = signed_in(end_user, "email", "carol@example.com")
    assert answer(end_user.delete(PRIMARY, headers=me)) == (
        401,
        "verification_record.permission_denied",
    )
    proof = end_user.post("/api/verifications/password", json={"password": PASSWORD}, headers=me)
    verified = {**me, HEADER: proof.json()["verificationRecordId"]}
    assert answer(end_user.delete(PRIMARY, headers=verified)) == (
        400,
        "user.last_sign_in_method_required",
    )


def test_the_experience_profile_binds_a_verified_email_address(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    secondary = {
        "identifiers": ["username"],
        "password": True,
        "verify": True,
        "secondaryIdentifiers": [{"identifier": "email", "verify": True}],
    }
    set_up(admin, secondary)
    user_id = create_user(admin, username="dave", password=PASSWORD)
    create_user(admin, primaryEmail="taken@example.com")

    def prove(email: str, event: str = "SignIn", *, verify: bool = True) -> str:
        identifier = {"type": "email", "value": email}
        sent = end_user.post(
            "/api/experience/verification/verification-code",
            json={"identifier": identifier, "interactionEvent": event},
        )
        assert sent.status_code == 200, sent.text
        verification_id = str(sent.json()["verificationId"])
        if verify:
            body = {
                "identifier": identifier,
                "verificationId": verification_id,
                "code": code_of(admin, email)["code"],
            }
            checked = end_user.post(
                "/api/experience/verification/verification-code/verify", json=body
            )
            assert checked.status_code == 200, checked.text
        return verification_id

    def bind(verification_id: str) -> httpx.Response:
        return end_user.post(
            "/api/experience/profile", json={"type": "email", "verificationId": verification_id}
        )

    # Sign-in: the secondary identifier is Logto's missing profile, under `data`.
    password_session(end_user, "username", "dave")
    missing = end_user.post("/api/experience/submit")
    assert answer(missing) == (422, "user.missing_profile")
    assert missing.json()["data"] == {"missingProfile": ["email"]}
    assert answer(bind("unknown")) == (404, "session.verification_session_not_found")
    assert answer(bind(prove("dave@example.com", verify=False))) == (
        400,
        "session.verification_failed",
    )
    assert answer(bind(prove("taken@example.com"))) == (422, "user.email_already_in_use")
    assert bind(prove("Dave@Example.com")).status_code == 204
    submitted = end_user.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    assert admin.get(f"/api/users/{user_id}").json()["primaryEmail"] == "Dave@example.com"
    # Now the account has one.
    password_session(end_user, "username", "dave")
    assert answer(bind(prove("second@example.com"))) == (422, "user.email_exists_in_profile")

    # Registration: the email joins the pending profile, and the account is made with it.
    assert end_user.put("/api/experience", json={"interactionEvent": "Register"}).status_code == 204
    for change in ({"type": "username", "value": "erin"}, {"type": "password", "value": PASSWORD}):
        assert end_user.post("/api/experience/profile", json=change).status_code == 204
    incomplete = end_user.post("/api/experience/identification", json={})
    assert incomplete.json()["data"] == {"missingProfile": ["email"]}
    assert bind(prove("erin@example.com", "Register")).status_code == 204
    assert end_user.post("/api/experience/identification", json={}).status_code == 201
    registered = end_user.post("/api/experience/submit")
    assert registered.status_code == 200, registered.text
    token = {"Authorization": f"Bearer {registered.json()['accessToken']}"}
    account = end_user.get("/api/my-account", headers=token).json()
    assert (account["username"], account["primaryEmail"]) == ("erin", "erin@example.com")

    # `emailOrPhone` as the secondary identifier (a phone needs an SMS connector).
    assert admin.post("/api/connectors", json={"connectorId": "outbox-sms"}).status_code == 200
    either = {**secondary, "secondaryIdentifiers": [{"identifier": "emailOrPhone", "verify": True}]}
    changed = admin.patch("/api/sign-in-exp", json={"signUp": either})
    assert changed.status_code == 200, changed.text
    create_user(admin, username="frank", password=PASSWORD)
    password_session(end_user, "username", "frank")
    assert end_user.post("/api/experience/submit").json()["data"] == {
        "missingProfile": ["emailOrPhone"]
    }
